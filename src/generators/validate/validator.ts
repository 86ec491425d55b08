/**
 * What a validator is: it claims the artifact files of its kind and checks them. Kept apart from the
 * registry in index.ts, which imports every validator, so a validator can name these types without a
 * cycle back to it.
 */

export interface ArtifactFile {
  path: string;
  /** Path shown in messages (relative to the validated directory). */
  display: string;
  text: string;
  /** The first YAML document as plain data, when the file is YAML and parses. */
  data?: unknown;
}

export interface ValidateContext {
  /** Path to promtool, or undefined when it is not installed (its checks are then skipped). */
  promtool?: string;
  /** Notes that are not failures, e.g. a skipped tool. */
  notes: string[];
}

export interface ArtifactValidator {
  kind: string;
  matches(file: ArtifactFile): boolean;
  /** Returns failure messages; empty means every file passed. */
  validate(files: ArtifactFile[], ctx: ValidateContext): Promise<string[]>;
}

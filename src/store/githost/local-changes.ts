import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GitHostError } from "../ports.js";

/**
 * What a forge keeps about a pull request, kept for the local repository as files inside its git
 * directory (`<git-dir>/slo-scout/changes/`): host state rather than repository content, so it is never
 * committed, never shows in a working tree and is not cloned or pushed with the branches.
 *
 *   changes/<id>/change.json       the record below
 *   changes/<id>/body.md           the change's description, as a reviewer reads it
 *   changes/<id>/comments/<n>.md   comments, in the order they were posted
 *
 * Ids are sequence numbers, allocated by creating the change's directory (an atomic mkdir), so two
 * processes sharing a repository never hand out the same one. Every file is written whole and renamed
 * into place, so a reader never sees half of one.
 */

export interface ChangeRecord {
  id: string;
  service: string;
  branch: string;
  /** The commit the branch started from: the change's files are those differing from it. */
  baseCommit: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}

const CHANGE_ID = /^[1-9][0-9]{0,9}$/;
const COMMENT_ID = /^([1-9][0-9]{0,9})-([1-9][0-9]{0,9})$/;

export class LocalChanges {
  private readonly root: string;

  constructor(gitDir: string) {
    this.root = join(gitDir, "slo-scout", "changes");
  }

  async create(fields: Omit<ChangeRecord, "id">, body: string): Promise<ChangeRecord> {
    await mkdir(this.root, { recursive: true });
    for (let id = (await this.maxId()) + 1; ; id++) {
      try {
        await mkdir(join(this.root, String(id)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw err;
      }
      const record = { id: String(id), ...fields };
      await this.write(record, body);
      return record;
    }
  }

  /** Undefined for an unknown id, including one that could not be an id at all. */
  async read(id: string): Promise<{ record: ChangeRecord; body: string } | undefined> {
    if (!CHANGE_ID.test(id)) return undefined;
    const dir = join(this.root, id);
    const json = await readIfExists(join(dir, "change.json"));
    if (json === undefined) return undefined;
    return {
      record: JSON.parse(json) as ChangeRecord,
      body: (await readIfExists(join(dir, "body.md"))) ?? "",
    };
  }

  async write(record: ChangeRecord, body: string): Promise<void> {
    const dir = join(this.root, record.id);
    await writeWhole(join(dir, "body.md"), body);
    await writeWhole(join(dir, "change.json"), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Every change with a record, oldest first. */
  async list(): Promise<ChangeRecord[]> {
    const out: ChangeRecord[] = [];
    for (const id of await this.ids()) {
      const found = await this.read(String(id));
      if (found) out.push(found.record);
    }
    return out;
  }

  async addComment(changeId: string, body: string): Promise<string> {
    if (!(await this.read(changeId))) throw new GitHostError("unknown-change", `no change ${changeId}`);
    const dir = join(this.root, changeId, "comments");
    await mkdir(dir, { recursive: true });
    const taken = (await readdir(dir)).map((f) => Number.parseInt(f, 10)).filter(Number.isFinite);
    for (let n = Math.max(0, ...taken) + 1; ; n++) {
      try {
        await writeFile(join(dir, `${n}.md`), body, { flag: "wx" });
        return `${changeId}-${n}`;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
  }

  async editComment(commentId: string, body: string): Promise<void> {
    const m = COMMENT_ID.exec(commentId);
    const file = m ? join(this.root, m[1]!, "comments", `${m[2]}.md`) : undefined;
    if (!file || (await readIfExists(file)) === undefined) {
      throw new GitHostError("unknown-comment", `no comment ${commentId}`);
    }
    await writeWhole(file, body);
  }

  private async ids(): Promise<number[]> {
    const names = await readdir(this.root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [] as string[];
      throw err;
    });
    return names
      .filter((n) => CHANGE_ID.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  private async maxId(): Promise<number> {
    return Math.max(0, ...(await this.ids()));
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function writeWhole(file: string, content: string): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

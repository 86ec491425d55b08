/**
 * BERT's uncased WordPiece tokenizer (the one sentence-transformers MiniLM models were trained with):
 * the basic tokenizer (clean, lowercase, strip accents, split on whitespace, punctuation and CJK characters)
 * followed by greedy longest-match-first WordPiece with `##` continuations. Ids must match the model's
 * vocab.txt exactly, or the embeddings are meaningless.
 */

export interface Encoding {
  inputIds: number[];
}

export interface Batch {
  /** Row-major [batch, seq] int64 tensors, as the ONNX session wants them. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  batch: number;
  seq: number;
}

/** Words longer than this become [UNK], as in BERT: matching them is quadratic and they are never real words. */
const MAX_CHARS_PER_WORD = 100;

export class WordPieceTokenizer {
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;

  constructor(
    private readonly vocab: Map<string, number>,
    readonly maxTokens = 256,
  ) {
    const id = (token: string) => {
      const v = vocab.get(token);
      if (v === undefined)
        throw new Error(`vocab.txt has no ${token} token; is it a BERT WordPiece vocabulary?`);
      return v;
    };
    this.unkId = id("[UNK]");
    this.clsId = id("[CLS]");
    this.sepId = id("[SEP]");
    this.padId = vocab.get("[PAD]") ?? 0;
  }

  /** vocab.txt: one token per line, the id is the line number. */
  static fromVocabText(text: string, maxTokens = 256): WordPieceTokenizer {
    const vocab = new Map<string, number>();
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    lines.forEach((token, i) => {
      if (!vocab.has(token)) vocab.set(token, i);
    });
    return new WordPieceTokenizer(vocab, maxTokens);
  }

  /** The WordPiece tokens of `text`, without [CLS]/[SEP] and without truncation. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const word of basicTokenize(text)) out.push(...this.wordPieces(word));
    return out;
  }

  /** [CLS] tokens [SEP], truncated to maxTokens. */
  encode(text: string): Encoding {
    const ids = this.tokenize(text)
      .slice(0, this.maxTokens - 2)
      .map((t) => this.vocab.get(t) ?? this.unkId);
    return { inputIds: [this.clsId, ...ids, this.sepId] };
  }

  /** Encodes and right-pads to the longest text of the batch; padding has attention 0. */
  encodeBatch(texts: string[]): Batch {
    const encodings = texts.map((t) => this.encode(t));
    const seq = Math.max(0, ...encodings.map((e) => e.inputIds.length));
    const inputIds = new BigInt64Array(texts.length * seq).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(texts.length * seq);
    encodings.forEach((e, row) => {
      e.inputIds.forEach((id, col) => {
        inputIds[row * seq + col] = BigInt(id);
        attentionMask[row * seq + col] = 1n;
      });
    });
    return {
      inputIds,
      attentionMask,
      tokenTypeIds: new BigInt64Array(texts.length * seq),
      batch: texts.length,
      seq,
    };
  }

  private wordPieces(word: string): string[] {
    const chars = Array.from(word);
    if (chars.length > MAX_CHARS_PER_WORD) return ["[UNK]"];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let piece: string | undefined;
      while (start < end) {
        const candidate = (start > 0 ? "##" : "") + chars.slice(start, end).join("");
        if (this.vocab.has(candidate)) {
          piece = candidate;
          break;
        }
        end--;
      }
      // One unmatched remainder makes the whole word unknown, not just the remainder.
      if (piece === undefined) return ["[UNK]"];
      pieces.push(piece);
      start = end;
    }
    return pieces;
  }
}

/**
 * BERT's BasicTokenizer with do_lower_case (which also strips accents), as Hugging Face's tokenizers library
 * implements it: that is the tokenizer sentence-transformers runs, so it decides which ids the model saw.
 */
export function basicTokenize(text: string): string[] {
  let cleaned = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) cleaned += " ";
    else if (isCjk(cp)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  const words: string[] = [];
  for (const raw of cleaned.split(" ")) {
    if (raw === "") continue;
    // Lowercased a character at a time: String.prototype.toLowerCase on the whole word would turn a
    // word-final capital sigma into final sigma (ς), which tokenizers never produces.
    const word = Array.from(raw, (ch) => ch.toLowerCase())
      .join("")
      .normalize("NFD")
      .replace(/\p{Mn}/gu, "");
    let current = "";
    for (const ch of word) {
      if (isPunctuation(ch)) {
        if (current) words.push(current);
        words.push(ch);
        current = "";
      } else current += ch;
    }
    if (current) words.push(current);
  }
  return words;
}

/** Space separators plus the line and paragraph separators (U+2028, U+2029), which tokenizers also splits on. */
function isWhitespace(ch: string): boolean {
  return ch === "\t" || ch === "\n" || ch === "\r" || /[\p{Zs}\p{Zl}\p{Zp}]/u.test(ch);
}

/** Dropped before tokenizing: control and format characters, and private-use ones as tokenizers does. */
function isControl(ch: string): boolean {
  if (ch === "\t" || ch === "\n" || ch === "\r") return false;
  return /[\p{Cc}\p{Cf}\p{Co}]/u.test(ch);
}

/** BERT counts all non-alphanumeric ASCII (such as $, ^, `) as punctuation, beyond Unicode's P* classes. */
function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (
    (cp >= 33 && cp <= 47) ||
    (cp >= 58 && cp <= 64) ||
    (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  ) {
    return true;
  }
  return /\p{P}/u.test(ch);
}

/** The CJK Unified Ideographs blocks BERT splits into single characters (not Hangul or kana). */
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

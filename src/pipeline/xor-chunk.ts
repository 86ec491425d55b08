/**
 * Decodes a Prometheus TSDB XOR chunk (Gorilla compression: delta-of-delta timestamps, XOR'd float bits),
 * the encoding remote_read's STREAMED_XOR_CHUNKS responses carry (prometheus/tsdb/chunkenc/xor.go):
 * a big-endian uint16 sample count, then a bit stream — the first timestamp as a signed varint and its
 * value as 64 raw bits, the second timestamp's delta as an unsigned varint, then each timestamp as a
 * delta of deltas in 1, 2+14, 3+17, 4+20 or 4+64 bits and each value XOR'd against the previous one.
 * 64-bit values are handled as two 32-bit halves, so decoding needs no BigInt on the hot path.
 */

export class ChunkDecodeError extends Error {
  override name = "ChunkDecodeError";
}

/** Prometheus's staleness marker: a NaN with this exact bit pattern. */
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

class BitReader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly bytes: Uint8Array,
    startByte: number,
  ) {
    this.pos = startByte * 8;
    this.end = bytes.length * 8;
  }

  bit(): number {
    if (this.pos >= this.end) throw new ChunkDecodeError("XOR chunk ends in the middle of a sample");
    const v = (this.bytes[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }

  /** Up to 32 bits as an unsigned number. */
  bits(n: number): number {
    if (this.pos + n > this.end) throw new ChunkDecodeError("XOR chunk ends in the middle of a sample");
    let v = 0;
    while (n > 0) {
      const off = this.pos & 7;
      const avail = 8 - off;
      const take = Math.min(avail, n);
      const chunk = (this.bytes[this.pos >>> 3]! >>> (avail - take)) & ((1 << take) - 1);
      v = v * (1 << take) + chunk;
      this.pos += take;
      n -= take;
    }
    return v;
  }

  uvarint(): number {
    let x = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.bits(8);
      x += (b & 0x7f) * scale;
      if (b < 0x80) return x;
      scale *= 128;
    }
    throw new ChunkDecodeError("XOR chunk holds an overlong varint");
  }

  varint(): number {
    const ux = this.uvarint();
    // Zig-zag, as Go's binary.PutVarint writes it; exact while |x| < 2^52 (epoch milliseconds are).
    return ux % 2 === 0 ? ux / 2 : -(ux + 1) / 2;
  }
}

export interface DecodedChunk {
  timestamps: Float64Array;
  values: Float64Array;
  /** 1 where the sample is Prometheus's staleness marker. */
  stale: Uint8Array;
}

const DOD_BITS = [0, 14, 17, 20, 64];

/** All samples of one XOR chunk (its bytes as remote_read sends them: count header included). */
export function decodeXorChunk(data: Uint8Array): DecodedChunk {
  if (data.length < 2) throw new ChunkDecodeError(`XOR chunk of ${data.length} bytes has no sample count`);
  const n = (data[0]! << 8) | data[1]!;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const stale = new Uint8Array(n);
  if (n === 0) return { timestamps, values, stale };
  const br = new BitReader(data, 2);
  const view = new DataView(new ArrayBuffer(8));
  let t = br.varint();
  let hi = br.bits(32);
  let lo = br.bits(32);
  let tDelta = 0;
  let leading = 0;
  let trailing = 0;
  const emit = (i: number) => {
    timestamps[i] = t;
    view.setUint32(0, hi);
    view.setUint32(4, lo);
    values[i] = view.getFloat64(0);
    if (hi === STALE_HI && lo === STALE_LO) stale[i] = 1;
  };
  const readValue = () => {
    if (br.bit() === 0) return;
    if (br.bit() === 1) {
      leading = br.bits(5);
      let sig = br.bits(6);
      if (sig === 0) sig = 64;
      trailing = 64 - leading - sig;
    }
    const sig = 64 - leading - trailing;
    const bh = sig > 32 ? br.bits(sig - 32) : 0;
    const bl = br.bits(Math.min(sig, 32));
    let xh: number;
    let xl: number;
    if (trailing === 0) {
      xh = bh;
      xl = bl;
    } else if (trailing >= 32) {
      xh = bl << (trailing - 32);
      xl = 0;
    } else {
      xh = (bh << trailing) | (bl >>> (32 - trailing));
      xl = bl << trailing;
    }
    hi = (hi ^ xh) >>> 0;
    lo = (lo ^ xl) >>> 0;
  };
  emit(0);
  for (let i = 1; i < n; i++) {
    if (i === 1) {
      tDelta = br.uvarint();
    } else {
      let d = 0;
      while (d < 4 && br.bit() === 1) d++;
      const sz = DOD_BITS[d]!;
      let dod = 0;
      if (sz === 64) {
        const h = br.bits(32);
        const l = br.bits(32);
        dod = Number(BigInt.asIntN(64, (BigInt(h) << 32n) | BigInt(l)));
      } else if (sz > 0) {
        dod = br.bits(sz);
        if (dod > 2 ** (sz - 1)) dod -= 2 ** sz;
      }
      tDelta += dod;
    }
    t += tDelta;
    readValue();
    emit(i);
  }
  return { timestamps, values, stale };
}

/**
 * CRC-32 (the zip/PNG polynomial 0xEDB88320), incremental, slicing by 4.
 * The table is built on first use, never at import.
 */

let table: Int32Array | undefined;

function crcTable(): Int32Array {
  if (table) return table;
  const t = new Int32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return (table = t);
}

/**
 * Incremental CRC-32 (zip/PNG polynomial).
 *
 * @example
 * const c = new Crc32(); c.update(a); c.update(b); c.digest(); // unsigned 32-bit
 */
export class Crc32 {
  #c = -1;

  update(data: Uint8Array): this {
    const t = crcTable();
    let c = this.#c;
    let i = 0;
    const n = data.length;
    for (; i + 4 <= n; i += 4) {
      c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
    }
    for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.#c = c;
    return this;
  }

  digest(): number {
    return ~this.#c >>> 0;
  }
}

// hashKV: a CRC-32C over every version a reader can still see up to a
// revision, in revision order. Two members that applied the same requests
// (and compactions) hash equal, whatever their physical compaction progress,
// because versions compaction has condemned are skipped by rule, not by disk state.

import { Errors } from '../errors';
import type { Backend } from './backend';
import { recordKeyString, revKey } from './codec';
import { isKept } from './compactor';
import type { KeyIndex } from './key-index';
import type { HashKVResult } from './types';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Incremental CRC-32C (Castagnoli), the polynomial etcd uses for hashKV. */
export class Crc32c {
  private crc = 0xffffffff;

  update(b: Uint8Array): this {
    let c = this.crc;
    for (let i = 0; i < b.length; i++) c = TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
    this.crc = c;
    return this;
  }

  digest(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}

export interface HashSource {
  index: KeyIndex;
  backend: Backend;
  rev: number;
  compactRev: number;
}

export async function hashKV(s: HashSource, revision: number): Promise<HashKVResult> {
  const C = s.compactRev;
  if (revision > 0 && revision <= C) throw Errors.Compacted;
  if (revision > s.rev) throw Errors.FutureRev;
  const rev = revision > 0 ? revision : s.rev;
  const h = new Crc32c();
  for await (const r of s.backend.scan(0, rev)) {
    const enc = r.raw[0] === 1 ? -r.sub - 1 : r.sub;
    if (r.main <= C && !isKept(s.index.get(recordKeyString(r.raw)), r.main, enc, C)) continue;
    h.update(revKey(r.main, r.sub));
    h.update(r.raw);
  }
  return { hash: h.digest(), compactRevision: C, hashRevision: rev };
}

// Ids as etcd derives them: the well-known ids of a default etcd member are ours too.
import { describe, expect, it } from 'vitest';
import { clusterId, idFromDecimal, idToDecimal, memberId } from '../../src/server/identity';

describe('identity', () => {
  it("gives etcd's default member its well-known member and cluster id", () => {
    const id = memberId(['http://localhost:2380'], 'etcd-cluster');
    expect(id).toBe('8e9e05c52164694d');
    expect(clusterId([id])).toBe('cdf818194e3a8c32');
  });

  it('does not depend on the order of peer URLs or member ids', () => {
    const a = memberId(['http://a:1', 'http://b:2'], 't');
    expect(memberId(['http://b:2', 'http://a:1'], 't')).toBe(a);
    const b = memberId(['http://c:3'], 't');
    expect(clusterId([a, b])).toBe(clusterId([b, a]));
  });

  it('changes with the cluster token and the time a member was added', () => {
    const base = memberId(['http://a:1'], 't1');
    expect(memberId(['http://a:1'], 't2')).not.toBe(base);
    expect(memberId(['http://a:1'], 't1', 1700000000)).not.toBe(base);
  });

  it('round-trips uint64 ids through their wire decimal form', () => {
    for (const id of ['8e9e05c52164694d', 'ffffffffffffffff', '1']) expect(idFromDecimal(idToDecimal(id))).toBe(id);
    expect(idToDecimal('')).toBe('0');
    expect(idFromDecimal('0')).toBe('');
  });
});

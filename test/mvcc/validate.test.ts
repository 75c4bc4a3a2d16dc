// Validation before proposing (etcd's v3rpc/key.go). Rows marked
// [etcd 3.4.23] were checked against the real binary.

import { describe, expect, it } from 'vitest';
import { Errors } from '../../src/errors';
import {
  type RequestOp,
  type TxnRequest,
  validateDeleteRange,
  validatePut,
  validateRange,
  validateTxn,
} from '../../src/mvcc';
import { b } from './helpers';

const put = (k: string): RequestOp => ({ requestPut: { key: b(k), value: b('v') } });
const del = (k: string, end?: string): RequestOp => ({
  requestDeleteRange: { key: b(k), ...(end !== undefined ? { rangeEnd: Buffer.from(end, 'latin1') } : {}) },
});
const txnOp = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => ({
  requestTxn: { compare: [], success, failure },
});
const txn = (success: RequestOp[], failure: RequestOp[] = [], compare: TxnRequest['compare'] = []): TxnRequest => ({
  compare,
  success,
  failure,
});

describe('validation', () => {
  it('empty keys', () => {
    expect(() => validateRange({ key: b('') })).toThrow(Errors.EmptyKey);
    expect(() => validatePut({ key: b('') })).toThrow(Errors.EmptyKey);
    expect(() => validateDeleteRange({ key: b('') })).toThrow(Errors.EmptyKey);
    expect(() => validateTxn(txn([put('')]))).toThrow(Errors.EmptyKey);
    expect(() => validateTxn(txn([], [], [{ key: b(''), target: 0, result: 0 }]))).toThrow(Errors.EmptyKey);
  });

  it('a range_end at or below the key is not an error', () => {
    expect(() => validateRange({ key: b('b'), rangeEnd: b('a') })).not.toThrow();
  });

  it('ignore_value with a value, ignore_lease with a lease [etcd 3.4.23]', () => {
    expect(() => validatePut({ key: b('a'), value: b('v'), ignoreValue: true })).toThrow(Errors.ValueProvided);
    expect(() => validatePut({ key: b('a'), lease: 1n, ignoreLease: true })).toThrow(Errors.LeaseProvided);
    expect(() => validatePut({ key: b('a'), ignoreValue: true, ignoreLease: true })).not.toThrow();
  });

  it('an empty RequestOp is "key not found" [etcd 3.4.23]', () => {
    expect(() => validateTxn(txn([{}]))).toThrow(Errors.KeyNotFound);
  });

  it('too many ops, nested txns spending the remaining budget', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => put(`k${i}`));
    expect(() => validateTxn(txn(many(128)))).not.toThrow();
    expect(() => validateTxn(txn(many(129)))).toThrow(Errors.TooManyOps);
    expect(() => validateTxn(txn(many(3)), 2)).toThrow(Errors.TooManyOps);
    // top level uses 2 of 4, nested may use 2
    expect(() => validateTxn(txn([put('a'), txnOp(many(2))]), 4)).not.toThrow();
    expect(() => validateTxn(txn([put('a'), txnOp(many(3))]), 4)).toThrow(Errors.TooManyOps);
  });

  it.each([
    ['two puts to one key', [put('a'), put('a')], true],
    ['put inside a delete range [etcd 3.4.23]', [del('a', 'c'), put('b')], true],
    ['put on a deleted key', [put('b'), del('b')], true],
    ['put beside a delete range', [del('a', 'b'), put('b')], false],
    ['range end "\\0" is taken literally in this check [etcd 3.4.23]', [del('a', '\0'), put('b')], false],
    ['puts in both branches of one nested txn are fine', [txnOp([put('a')], [put('a')])], false],
    ['put in two nested txns', [txnOp([put('a')]), txnOp([put('a')])], true],
    ['nested put under an outer delete', [del('a', 'z'), txnOp([put('k')])], true],
    ['nested delete, then outer put', [txnOp([del('k')]), put('k')], true],
    ['put in child 1, delete in child 2: not detected [etcd 3.4.23]', [txnOp([put('k')]), txnOp([del('k')])], false],
    ['delete in child 1, put in child 2 [etcd 3.4.23]', [txnOp([del('k')]), txnOp([put('k')])], true],
    ['two deletes of one key are fine', [del('k'), del('k')], false],
  ])('duplicate keys: %s', (_n, ops, dup) => {
    const f = () => validateTxn(txn(ops as RequestOp[]));
    if (dup) expect(f).toThrow(Errors.DuplicateKey);
    else expect(f).not.toThrow();
  });

  it('branches are checked separately', () => {
    expect(() => validateTxn(txn([put('a')], [put('a')]))).not.toThrow();
  });
});

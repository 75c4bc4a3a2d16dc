// Public surface of the MVCC store for the server and API layers.
//
// Protocol for the server: open once per member on a buffer sublevel of the
// member's Level; on restart skip committed entries with index <=
// store.consistentIndex(); for each committed entry of a Ready call
// applyWrite(req, index) (or setConsistentIndex(index) for entries that are
// not MVCC writes) and answer the waiter with its result or its EtcdError;
// then `await store.commit()` once. The API layer calls the validate*
// functions before proposing, and serves Range and read-only Txn
// (isTxnReadOnly) with range()/readTxn() after ReadIndex.

export { MvccStore, type MvccStoreOptions, type ChangeListener } from './store';
export type { MvccDb } from './backend';
export type { LeaseExists } from './apply';
export type { EventsFromOptions, EventsPage } from './feed';
export { validateRange, validatePut, validateDeleteRange, validateTxn, DEFAULT_MAX_TXN_OPS } from './validate';
export { isTxnReadOnly } from './readonly';
export * from './types';

// Public surface of the MVCC store for the server and API layers.

export { MvccStore, type MvccStoreOptions, type ChangeListener } from './store';
export type { MvccDb } from './backend';
export type { LeaseExists } from './apply';
export type { EventsFromOptions, EventsPage } from './feed';
export { validateRange, validatePut, validateDeleteRange, validateTxn, DEFAULT_MAX_TXN_OPS } from './validate';
export { isTxnReadOnly } from './readonly';
export * from './types';

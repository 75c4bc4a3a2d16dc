// Public surface of the member-to-member transport.
export { Transport, RejectReason, type TransportOptions, type MessageHandler, type PeerHandler, type SnapshotStatusHandler, type RejectedHandler } from './transport';
export type { StreamStats } from './stream';
export { parsePeerUrl, type HostPort } from './url';

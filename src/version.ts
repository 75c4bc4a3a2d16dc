// Versions reported to users and clients.

/** This project's own version. */
export const VERSION = '0.1.0';

/**
 * The etcd release whose API and behaviour we match; reported where etcd reports
 * its own version (Status, /version), since clients gate features on it.
 */
export const ETCD_API_VERSION = '3.4.23';
/** The cluster version etcd reports once all members agree on one. */
export const ETCD_CLUSTER_VERSION = '3.4.0';

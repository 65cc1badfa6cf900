import { storageContract } from './storage-contract';

// The storage contract against the local filesystem store (STORAGE_DIR, the default backend).
storageContract('local');

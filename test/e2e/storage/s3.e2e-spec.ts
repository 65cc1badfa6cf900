import { storageContract } from './storage-contract';

// The storage contract against S3: a real s3rver on a free loopback port, started and stopped by the suite.
storageContract('s3');

import { describeStoreConformance } from '@latchkey/store-conformance';
import { sharedStore } from './helpers.js';

describeStoreConformance('postgres', sharedStore);

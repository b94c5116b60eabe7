import { MemoryLeaseStore } from '../../runner/lease/memory-lease-store.ts';
import { describeLeaseStoreContract } from './lease-store-contract.ts';

describeLeaseStoreContract('MemoryLeaseStore', async (clock) => {
  const store = new MemoryLeaseStore({ clock });
  // One in-memory store is the whole "host": every open() shares it.
  return { open: () => store, cleanup: async () => {} };
});

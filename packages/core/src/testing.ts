/** Helpers for tests of code that uses Latchkey: an in-memory store. */
export { createMemoryStore } from './stores/memory.js';

// The contract lives in its own dependency-free package, which the browser client
// also depends on; the core re-exports it so server code has one import.
export * from '@latchkey/wire';

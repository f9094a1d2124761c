// The adapter's factory is exported here.
export {};

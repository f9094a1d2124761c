// Each loopback server is exported here.
export {};

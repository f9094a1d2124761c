// The conformance suites and mocks are exported here (see the modules beside this file).
export {};

// The embedded defaults are exported here (see the modules beside this file).
export {};

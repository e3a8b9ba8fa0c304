// Starting a process: startService for every service (its store, routes, consumer, retention), serve for
// what they and the relay share, and the settings every one of them has.
export * from './serve';
export * from './service';
export * from './settings';
export * from './stores';

// Platform: settings (config), logging, the process life-cycle, loops and waits.
export * from './config';
export * from './logging';
export * from './lifecycle';
export * from './loop';
export * from './wait';
export * from './ids';

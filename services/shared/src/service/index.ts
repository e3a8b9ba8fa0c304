// One way to start a service.
export * from './service';

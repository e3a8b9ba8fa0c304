// Three layers, told apart by suffix (docs/architecture.md "Tests"): *.unit.test.ts (nothing running),
// *.int.test.ts (the real stack), *.e2e.test.ts (running services over HTTP). `npm test` runs them all;
// each has its own script.
const common = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    // One entry per concern (services/shared/src/<concern>/index.ts); there is no barrel of everything.
    '^@qtshop/shared/([a-z-]+)$': '<rootDir>/services/shared/src/$1/index.ts',
  },
  transform: {
    // Type checking is `npm run typecheck` (tsc over the whole tree); with isolatedModules in
    // tsconfig.json ts-jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { useESM: true }],
  },
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.test.ts'], testPathIgnorePatterns: ['/node_modules/', '/.stack/', '/.stack-cluster/'] },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/**/*.int.test.ts'], testPathIgnorePatterns: ['/node_modules/', '/.stack/', '/.stack-cluster/'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/**/*.e2e.test.ts'], testPathIgnorePatterns: ['/node_modules/', '/.stack/', '/.stack-cluster/'] },
  ],
};

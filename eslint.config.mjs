// @ts-check
import eslint from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';
import { boundariesConfig } from './eslint.boundaries.mjs';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '**/dist/**',
      'node_modules/**',
      'coverage/**',
      'libs/sdk/src/management/schema.generated.ts',
      'bench/**/*.mjs',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-console': 'error',
    },
  },
  // The checked dependency rule (docs/architecture.md): lib → lib arrows, public entry points only, and
  // the floors of libs/auth. The source of truth is eslint.boundaries.mjs.
  ...boundariesConfig(boundaries),
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // The SDK is published on its own: public HTTP API only, no server internals, NestJS only in its guard.
    files: ['libs/sdk/src/**/*.ts'],
    ignores: ['libs/sdk/src/nestjs/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@agentauth/*', '@nestjs/*', '../../*/src/*'],
              message: 'The SDK uses the public API only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI is built on the SDK: no server internals.
    files: ['apps/cli/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@agentauth/*', '!@agentauth/sdk', '!@agentauth/sdk/*', '@nestjs/*', '../../../libs/*'],
              message: 'The CLI uses @agentauth/sdk and the public API only.',
            },
          ],
        },
      ],
    },
  },
);

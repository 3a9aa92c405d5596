import path from 'node:path';
import { includeIgnoreFile } from '@eslint/compat';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  // What git ignores (runs, local data, scratch folders) is not linted either; models hold no code.
  includeIgnoreFile(path.join(import.meta.dirname, '.gitignore')),
  // models hold no code; schema_generated.ts is flatc's output, regenerated rather than edited.
  { ignores: ['models/**', 'src/engine/tflite/schema_generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The engine boundary (issue #22): the UI, the store, ingest and the TF-free core reach the engine only
    // through its client and protocol (types may come from anywhere), and never load TensorFlow.js or
    // ONNX Runtime themselves: those live in the engine's worker thread.
    files: ['src/{app,cluster,components,contexts,core,ingest,queue,screens,services,state,store,terminal}/**/*.{ts,tsx}', 'src/app.tsx', 'src/keymap.ts', 'src/config.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)engine/(?!(client|protocol)\\.js$)',
              allowTypeImports: true,
              message: 'outside src/engine/, use engine/client and engine/protocol (or move what is not engine work to src/core/)',
            },
            { group: ['@tensorflow/*', 'onnxruntime-node'], allowTypeImports: true, message: 'TensorFlow.js and ONNX Runtime run in the engine worker only' },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.{js,mjs}', 'test/**/*.mjs', 'src/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);

// A class name becomes a folder (export --format folders, the class folders train reads) and a column of
// CSVs, so it is one path segment of safe characters wherever it comes from: `--classes`, a manifest, a
// training folder or a label in the store. `../../tmp/ESCAPED` once put an exported slide outside --out.
import { z } from 'zod';

/* eslint-disable no-control-regex -- control characters are what a class name must not hold */
const UNSAFE = /[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

/** Why `name` cannot be a class name, or null when it can: one path segment, no separators or control characters. */
export function classNameProblem(name: string): string | null {
  if (name && name.length <= 128 && name !== '.' && name !== '..' && name.trim() === name && !UNSAFE.test(name)) return null;
  return `class name ${JSON.stringify(name)} is not allowed: a class name is one folder name (no / or \\, not . or .., no control characters, no spaces at its ends, at most 128 characters)`;
}

/** Throws on the first name that cannot be a class name. */
export function checkClassNames(names: readonly string[]): void {
  for (const n of names) {
    const problem = classNameProblem(n);
    if (problem) throw new Error(problem);
  }
}

export const classNameSchema = z.string().refine((n) => classNameProblem(n) === null, { message: 'a class name is one folder name: no / or \\, not . or .., no control characters' });

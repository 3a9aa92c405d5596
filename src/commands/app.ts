import type { Command } from './command.js';

export const appCommand: Command = {
  name: '',
  summary: 'the triage app: watches the incoming folder, classifies and explains, and takes the technician’s decisions',
  flags: {},
  async run({ config, defaultModel }) {
    const { runApp } = await import('../app.js');
    return runApp(config, defaultModel);
  },
};

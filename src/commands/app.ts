import type { Command } from './command.js';

export const appCommand: Command = {
  name: '',
  summary: 'the triage app: watches the incoming folder, classifies and explains, and takes the technician’s decisions',
  flags: {
    ingest: { type: 'boolean', description: 'with engine hosts (cluster.engineHosts): watch the incoming folder here and enqueue each new slide for them' },
  },
  async run({ config, defaultModel, values }) {
    const { runApp } = await import('../app.js');
    return runApp(config, defaultModel, { ingest: !!values.ingest });
  },
};

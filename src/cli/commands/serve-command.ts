import closeWithGrace from 'close-with-grace';
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { loadProcessConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { startServer } from '../../server.js';

/** `deflect serve`: run the receiver and the worker until SIGTERM/SIGINT, then shut down gracefully; SIGHUP reloads the rules file. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(commandDescription('serve'))
    .option('--grace <ms>', 'how long in-flight runs may finish at shutdown, ms', '10000')
    .action(async (options: { grace: string }) => {
      const config = loadProcessConfig();
      const logger = createLogger(config.logLevel);
      const server = await startServer(config, logger);
      // SIGHUP reloads the rules file (startServer listens for it); it must not shut deflect down.
      closeWithGrace({ delay: Number(options.grace) + 5_000, skip: ['SIGHUP'] }, async ({ signal, err }) => {
        if (err) logger.error({ err }, 'shutting down after an error');
        else logger.info({ signal }, 'shutting down');
        await server.close(Number(options.grace));
      });
    });
}

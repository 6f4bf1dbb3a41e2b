export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** Logs to stderr so that stdout stays clean for tables and `--json`. */
export function createStderrLogger(options: { verbose: boolean }): Logger {
  const write = (line: string) => process.stderr.write(`${line}\n`);
  return {
    info: (m) => write(m),
    warn: (m) => write(`warning: ${m}`),
    debug: (m) => {
      if (options.verbose) write(`debug: ${m}`);
    },
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

/** One CLI sub-command. `run` throws UserError for anything the user can fix. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** Resolves to the exit code (default 0); e.g. 1 when a simulation verdict is a failure. */
  run(argv: string[]): Promise<number | void>;
}

/** One CLI sub-command. `run` throws UserError for anything the user can fix. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  run(argv: string[]): Promise<void>;
}

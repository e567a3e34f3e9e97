// The `modelsign` command: dispatches to one file per command under cli/.
import { COMMANDS, USAGE } from './cli/commands.ts';
import { dispatch } from './cli/dispatch.ts';

process.exitCode = await dispatch(process.argv.slice(2), COMMANDS, USAGE);

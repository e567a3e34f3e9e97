// Entry point of the prebuilt client commands (scripts/build-cli.mjs bundles it to
// dist/modelsign-client.mjs; bin/modelsign.js uses it when it is newer than every source file).
import { CLIENT_COMMANDS } from './client-commands.ts';
import { dispatch } from './dispatch.ts';

process.exitCode = await dispatch(process.argv.slice(2), CLIENT_COMMANDS, 'Usage: modelsign hash|scan|sign|verify|audit|log monitor|log mirror|trust export|proof fetch ... (run `modelsign --help` for all commands)');

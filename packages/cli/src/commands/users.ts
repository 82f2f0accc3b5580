import { defineCommand, type Group } from '../command.js';
import { CliError, EXIT } from '../errors.js';
import { EMAIL_OPTION, emailOption, JSON_OPTION, plural } from './shared.js';

const remove = defineCommand({
  name: 'users delete',
  summary: 'end every session of an account and delete it',
  synopsis: '--email EMAIL [--yes] [--json]',
  details: [
    "Ends every session of the account (refresh families in token mode; on every server at once, as `sessions revoke --all` does), then deletes the account: its email is free for a new one. There is no undo. The app's onAccountDeleted hook does not run here: the app's own data about the user goes with it only where the database takes it along (a foreign key to latchkey_users with ON DELETE CASCADE, as the reference app's notes have).",
    'Asks for confirmation on a terminal; a script must pass --yes.',
  ],
  options: {
    email: EMAIL_OPTION,
    yes: { type: 'boolean' as const, description: 'delete without asking' },
    json: JSON_OPTION,
  },
  usesConfig: true,
  async run(values, io, env) {
    const command = 'users delete';
    const email = emailOption(command, values.email);
    const { failed, withLatchkey } = await import('../operator.js');
    return withLatchkey(env, io, async (latchkey) => {
      const found = await latchkey.admin.findUser(email);
      if (!found.ok) throw failed(email, found.error);
      if (!values.yes) {
        const answer = await io.confirm(
          `Delete the account ${found.user.email} (user ${found.user.id}) and end all its sessions?`,
        );
        if (answer === null) {
          throw new CliError(
            `${command}: add --yes to delete ${found.user.email} without a prompt (there is no undo)`,
            EXIT.usage,
          );
        }
        if (!answer) throw new CliError(`${command}: not deleted`, EXIT.failed);
      }
      const result = await latchkey.admin.deleteUser(email);
      if (!result.ok) throw failed(email, result.error);
      if (values.json) {
        io.out(
          JSON.stringify({
            user: result.user,
            deleted: true,
            sessionsRevoked: result.sessionsRevoked,
          }),
        );
      } else {
        io.out(
          `Deleted the account ${result.user.email} (user ${result.user.id}) and revoked ${plural(result.sessionsRevoked, 'session')}.`,
        );
      }
      return EXIT.ok;
    });
  },
});

export const usersGroup: Group = {
  name: 'users',
  summary: 'Accounts, found by their email.',
  commands: [remove],
};

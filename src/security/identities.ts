/**
 * The names people are known by to the agent, each proven by something they hold: a named API
 * token (API_USERS: `alice=<token>`) or a named app key (TASK_AUTHORIZED_WRITERS: `alice=did:key:…`,
 * its operations' signatures verified). An approval may name who may decide it (`approvers`); a
 * decision then counts only from one of those names, and its `by` is that name rather than what the
 * request says. See the README's "Approvals".
 */
import { z } from "zod";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const NAME_RULE = "1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit";

/** A person's name as the settings and an approval's `approvers` spell it. */
export const PersonNameSchema = z.string().regex(NAME, `must be ${NAME_RULE}`);

/** `name=value` → its name and value, split at the first '=' (a token may hold more); a bare value has no name. */
export function splitNamed(entry: string): { name: string | undefined; value: string } {
  const at = entry.indexOf("=");
  return at <= 0 ? { name: undefined, value: entry } : { name: entry.slice(0, at).trim(), value: entry.slice(at + 1).trim() };
}

/**
 * API_USERS: comma-separated `name=token`, each token at least 16 characters and used once. A name
 * may hold several tokens — to rotate one, add the new, hand it over, then remove the old — each
 * of them that one person (an approval counts her once).
 */
export const ApiUsersSchema = z
  .string()
  .transform((text, ctx) => {
    const users: { name: string; token: string }[] = [];
    for (const entry of text.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
      const { name, value } = splitNamed(entry);
      // The entry itself is never echoed: it holds a token.
      if (name === undefined) ctx.addIssue({ code: "custom", message: `entry ${users.length + 1} must be name=token (e.g. alice=<a token of 16 characters or more>)` });
      else if (!NAME.test(name)) ctx.addIssue({ code: "custom", message: `'${name}': a name must be ${NAME_RULE}` });
      else if (value.length < 16) ctx.addIssue({ code: "custom", message: `${name}'s token must be at least 16 characters` });
      else if (users.some((u) => u.token === value)) {
        const owner = users.find((u) => u.token === value)?.name;
        ctx.addIssue({ code: "custom", message: owner === name ? `${name}'s token is given twice` : `${name}'s token is another user's too: each must have a token of their own` });
      }
      else users.push({ name, token: value });
    }
    return users;
  });

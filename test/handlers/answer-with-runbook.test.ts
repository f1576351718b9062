/**
 * answer-with-runbook: posts the runbook named in the rule and resolves; the path is checked when the rules file loads
 * (inside its folder, size, UTF-8) and the text read at run time; ticket text around the runbook stays data.
 */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import handler, { MAX_RUNBOOK_BYTES } from '../../handlers/answer-with-runbook.js';
import { handlers } from '../../handlers/index.js';
import { commentToAdf } from '../../src/jira/comment-markdown.js';
import { handlerOptionsOf, runHandler } from '../../src/automation/test-context.js';
import { parseRules, RulesFileError } from '../../src/rules/rules-file.js';

const dir = mkdtempSync(join(tmpdir(), 'deflect-runbook-'));
const rulesPath = join(dir, 'rules.yaml');
mkdirSync(join(dir, 'runbooks'));
writeFileSync(join(dir, 'runbooks', 'vpn.md'), '# Connecting to the VPN\n\n1. Install **WireGuard** from <https://www.wireguard.com/install/>.\n2. Run `wg-quick up acme`.\n');
writeFileSync(join(dir, 'outside.md'), '# not in runbooks but inside the rules folder\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rule = (runbook: string) => `rules:\n  - labels: [how-to]\n    handler: answer-with-runbook\n    with: { runbook: ${JSON.stringify(runbook)} }\n`;

describe('answer-with-runbook', () => {
  it('comments the runbook (its Markdown kept) and resolves the ticket to Done', async () => {
    const t = await runHandler(handler, { options: { runbook: 'runbooks/vpn.md' }, rulesPath, ticket: { reporter: 'Dev One' } });
    expect(t.calls.map((c) => c.method)).toEqual(['comment', 'resolve']);
    expect(t.resolutions).toEqual(['Done']);
    expect(t.comments[0]).toContain("Hi Dev One, this is answered by the platform team's runbook **Connecting to the VPN**");
    expect(t.comments[0]).toContain('Run `wg-quick up acme`');
    expect(t.result).toMatchObject({ summary: expect.stringMatching(/^answered with runbook runbooks\/vpn\.md \(sha256 [0-9a-f]{12}, \d+ bytes\); resolved to Done$/) });
    // The runbook is trusted Markdown: its link and code survive as ADF marks.
    const adf = JSON.stringify(commentToAdf(t.calls[0].args[0] as never));
    expect(adf).toContain('"href":"https://www.wireguard.com/install/"');
    expect(adf).toContain('"type":"code"');
  });

  it('keeps ticket text around the runbook as data', async () => {
    const t = await runHandler(handler, { options: { runbook: 'runbooks/vpn.md' }, rulesPath, ticket: { reporter: '[click](https://evil.example) **x**' } });
    const adf = JSON.stringify(commentToAdf(t.calls[0].args[0] as never));
    expect(adf).not.toContain('evil.example","');
    expect(adf).toContain('[click](https://evil.example) **x**');
  });

  it('resolves to the status the rule names', async () => {
    const t = await runHandler(handler, { options: { runbook: 'runbooks/vpn.md', status: 'Resolved' }, rulesPath });
    expect(t.resolutions).toEqual(['Resolved']);
  });

  it('reads the runbook at run time: an edit applies to the next ticket without a reload', async () => {
    const file = join(dir, 'runbooks', 'edited.md');
    writeFileSync(file, '# Old\n\nold text\n');
    const options = handlerOptionsOf(handler, { runbook: 'runbooks/edited.md' }, rulesPath);
    writeFileSync(file, '# New\n\nnew text\n');
    const t = await runHandler(handler, { options: { runbook: 'runbooks/edited.md' }, rulesPath });
    expect(options.runbookFile).toBe(file);
    expect(t.comments[0]).toContain('new text');
  });

  it('is in the registry', () => {
    expect(handlers).toContain(handler);
  });

  describe('the rules file refuses a runbook it cannot use, with the line', () => {
    const known = [handler];
    it.each([
      ['../escape.md', /rules\.0\.with\.runbook: must stay inside/],
      ['runbooks/missing.md', /rules\.0\.with\.runbook: runbook .*missing\.md cannot be read: ENOENT/],
      ['/etc/passwd.md', /rules\.0\.with\.runbook: must be relative to the rules file/],
      ['runbooks/vpn.txt', /rules\.0\.with\.runbook: must be a Markdown file/],
    ])('%s', (runbook, message) => {
      expect(() => parseRules(rule(runbook), rulesPath, known)).toThrow(RulesFileError);
      expect(() => parseRules(rule(runbook), rulesPath, known)).toThrow(message);
      expect(() => parseRules(rule(runbook), rulesPath, known)).toThrow(/rules\.yaml:4:\d+/);
    });

    it('a runbook without with: is refused (runbook is required)', () => {
      expect(() => parseRules('rules:\n  - labels: [how-to]\n    handler: answer-with-runbook\n', rulesPath, known)).toThrow(/rules\.0\.with\.runbook/);
    });

    it('a symlink out of the folder is refused', () => {
      const secret = mkdtempSync(join(tmpdir(), 'deflect-secret-'));
      writeFileSync(join(secret, 's.md'), 'secret');
      symlinkSync(join(secret, 's.md'), join(dir, 'runbooks', 'link.md'));
      expect(() => parseRules(rule('runbooks/link.md'), rulesPath, known)).toThrow(/is outside/);
      rmSync(secret, { recursive: true, force: true });
    });

    it(`a runbook over ${MAX_RUNBOOK_BYTES} bytes, or not UTF-8, is refused`, () => {
      writeFileSync(join(dir, 'runbooks', 'big.md'), 'x'.repeat(MAX_RUNBOOK_BYTES + 1));
      writeFileSync(join(dir, 'runbooks', 'latin1.md'), Buffer.from([0x23, 0x20, 0xe9, 0x0a]));
      expect(() => parseRules(rule('runbooks/big.md'), rulesPath, known)).toThrow(/over the 24000-byte limit/);
      expect(() => parseRules(rule('runbooks/latin1.md'), rulesPath, known)).toThrow(/not valid UTF-8/);
    });

    it('a good rule loads with the resolved file', () => {
      const [loaded] = parseRules(rule('runbooks/vpn.md'), rulesPath, known);
      expect(loaded.with).toMatchObject({ runbook: 'runbooks/vpn.md', runbookFile: join(dir, 'runbooks', 'vpn.md'), status: 'Done' });
    });
  });

  it('fails the run, with the reason, when the runbook was removed after loading', async () => {
    writeFileSync(join(dir, 'runbooks', 'gone.md'), '# Gone\n');
    const options = handlerOptionsOf(handler, { runbook: 'runbooks/gone.md' }, rulesPath);
    rmSync(join(dir, 'runbooks', 'gone.md'));
    const { createTestContext } = await import('../../src/automation/test-context.js');
    const t = createTestContext({ options });
    await expect(handler.run(t.ctx as never)).rejects.toThrow(/gone\.md cannot be read: ENOENT/);
    expect(t.calls).toEqual([]);
  });
});

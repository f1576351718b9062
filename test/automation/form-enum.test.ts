import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formEnum, parseTicketInput } from '../../src/automation/ticket-input.js';
import { ticketWith } from '../support/ticket-fixture.js';

describe('formEnum', () => {
  it('matches upper-case enums case-insensitively and returns the enum spelling', () => {
    const type = formEnum(['A', 'CNAME', 'TXT']);
    expect(type.parse('cname')).toBe('CNAME');
    expect(type.parse(' Txt ')).toBe('TXT');
    expect(type.parse('a')).toBe('A');
  });

  it('matches lower- and mixed-case enums the same way', () => {
    expect(formEnum(['read', 'write']).parse('WRITE')).toBe('write');
    expect(formEnum(['terraform-Module', 'service']).parse('TERRAFORM-module')).toBe('terraform-Module');
  });

  it('refuses a value matching none and quotes it as the reporter wrote it, listing the options', () => {
    const schema = z.object({ recordType: formEnum(['A', 'CNAME', 'TXT']).describe('DNS record type.') });
    const parsed = parseTicketInput(ticketWith('Record type: Mx'), schema);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems[0].field).toBe('recordType');
    expect(parsed.problems[0].message).toContain('`Mx`');
    expect(parsed.problems[0].message).toContain('`A`, `CNAME`, `TXT`');
    const ok = parseTicketInput(ticketWith('Record type: cname'), schema);
    expect(ok).toEqual({ ok: true, input: { recordType: 'CNAME' } });
  });
});

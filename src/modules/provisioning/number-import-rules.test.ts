import { describe, expect, it } from 'vitest';
import { compareExtensions, extensionSequence, sipUsername } from './extension.ts';
import { expandRange } from './number-import-rules.ts';

describe('inventory import rules', () => {
  it('expands a range inclusively, keeping the width', () => {
    expect(expandRange({ from: '+3243210000', to: '+3243210002', type: 'national' }, '/r')).toEqual(['+3243210000', '+3243210001', '+3243210002']);
    expect(expandRange({ from: '+3243210099', to: '+3243210099', type: 'national' }, '/r')).toHaveLength(1);
  });

  it('refuses bad ranges and mistyped numbers', () => {
    expect(() => expandRange({ from: '+3243210002', to: '+3243210000', type: 'national' }, '/r')).toThrow(/not be below/);
    expect(() => expandRange({ from: '+3243210000', to: '+32432100001', type: 'national' }, '/r')).toThrow(/same number of digits/);
    expect(() => expandRange({ from: '+33187650000', to: '+33187650001', type: 'national' }, '/r')).toThrow(/not Belgian/);
    expect(() => expandRange({ from: '+3243210000', to: '+3243210001', type: 'international' }, '/r')).toThrow(/is Belgian/);
    expect(() => expandRange({ from: '043210000', to: '043210001', type: 'national' }, '/r')).toThrow(/E\.164/);
  });
});

describe('extensions and SIP usernames', () => {
  it('consecutive extensions, 2 to 6 digits', () => {
    expect(extensionSequence('101', 3)).toEqual(['101', '102', '103']);
    expect(extensionSequence('098', 3)).toEqual(['098', '099', '100']);
    expect(() => extensionSequence('1', 1)).toThrow(/2 to 6 digits/);
    expect(() => extensionSequence('999998', 3)).toThrow(/more than 6 digits/);
  });

  it('orders extensions numerically', () => {
    expect(['100', '99', '101'].sort(compareExtensions)).toEqual(['99', '100', '101']);
  });

  it('username = extension.client code', () => {
    expect(sipUsername('0190d1f2-1234-7abc-8def-0123456789ab', '101')).toBe('101.0123456789ab');
  });
});

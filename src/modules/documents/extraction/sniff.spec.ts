import { describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { sniff, sniffDelimiter } from './sniff';

const type = (bytes: Buffer | string, complete = true) =>
  sniff(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, complete);

describe('sniff', () => {
  it('knows signatures whatever the file is called', () => {
    expect(type(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]))).toMatchObject({
      type: 'png',
      modality: 'image',
      refused: false,
    });
    expect(type('%PDF-1.7\n...')).toMatchObject({ type: 'pdf', modality: 'pdf' });
    expect(type(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toMatchObject({ type: 'jpeg', modality: 'image' });
  });

  it('refuses executables and archives, but not XLSX', () => {
    for (const bytes of [
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]),
      Buffer.from('MZ\x90\x00', 'latin1'),
      Buffer.from('#!/bin/sh\nrm -rf /\n'),
      Buffer.from([0x1f, 0x8b, 8, 0]),
      Buffer.from('PK\x03\x04\x14\x00docs/readme.txt', 'latin1'),
    ])
      expect(type(bytes).refused).toBe(true);
    expect(
      type(Buffer.from('PK\x03\x04\x14\x00[Content_Types].xml...xl/workbook.xml', 'latin1')),
    ).toMatchObject({
      type: 'xlsx',
      modality: 'tabular',
      refused: false,
    });
  });

  it('tells CSV, TSV, JSON and text apart by their content', () => {
    expect(type('a,b\n1,2\n').type).toBe('csv');
    expect(type('a;b;c\n1;2;3\n4;5;6\n').type).toBe('csv');
    expect(type('a\tb\n1\t2\n').type).toBe('tsv');
    expect(type('[{"a": 1}]').type).toBe('json');
    expect(type('{not json at all}\nsecond line\n').type).toBe('text');
    expect(type('[{"a": 1}, {"b"', false).type).toBe('json');
    expect(type('Dear team,\nthe report is late.\nRegards\n').type).toBe('text');
    expect(type(Buffer.from([1, 2, 0, 0, 3, 0, 0, 0, 0, 9])).type).toBe('binary');
  });

  it('reads UTF-16 and Windows-1252 text before sniffing it', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('a,b\n1,2\n', 'utf-16le')]);
    expect(type(utf16).type).toBe('csv');
    expect(type(iconv.encode('nom;ville\nCafé;Orléans\n', 'windows-1252')).type).toBe('csv');
  });
});

describe('sniffDelimiter', () => {
  it('ignores delimiters inside quotes and tolerates a preamble and ragged rows', () => {
    expect(sniffDelimiter('name;note\n"Smith, J";"a, b, c"\nDoe;x\n')).toBe(';');
    expect(sniffDelimiter('exported by system\ncode|label\n1|a\n2|b\n3|c\n')).toBe('|');
    expect(sniffDelimiter('a,b,c\n1,2,3\n4,5\n6,7,8,9\n')).toBe(',');
    expect(sniffDelimiter('just one column\nof words\n')).toBeUndefined();
  });
});

// English strings of a report's suppressed findings (images.suppressions.*); imagesSuppressions.zh-CN.ts has the same keys.
const suppressions = {
  hint: { suppressed: 'not counted by the gate', expired: 'their findings count again and are in the findings table' },
  col: { finding: 'Finding', package: 'Package', severity: 'Severity', reason: 'Reason', author: 'Author', until: 'Until', scope: 'Scope' },
  until: 'until {{date}}',
  expiredOn: 'expired {{date}}',
  noExpiry: 'no expiry (OpenVEX)',
  scopePackage: 'package {{package}}',
  scopeImage: 'images {{image}}',
  scopeAnyImage: 'any image',
};

export default suppressions;

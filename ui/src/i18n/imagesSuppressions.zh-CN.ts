// 报告中已豁免发现的简体中文文案（images.suppressions.*），与 imagesSuppressions.en.ts 键相同。
const suppressions = {
  hint: { suppressed: '不计入门禁', expired: '其发现重新计入门禁，并列在发现表中' },
  col: { finding: '发现', package: '软件包', severity: '严重程度', reason: '理由', author: '作者', until: '有效期', scope: '范围' },
  until: '至 {{date}}',
  expiredOn: '已于 {{date}} 过期',
  noExpiry: '无期限（OpenVEX）',
  scopePackage: '软件包 {{package}}',
  scopeImage: '镜像 {{image}}',
  scopeAnyImage: '任意镜像',
};

export default suppressions;

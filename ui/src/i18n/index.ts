// i18next with bundled resources (no HTTP backend). Switching language is
// instant: components read the language from LangContext and re-render.
import i18next from 'i18next';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import en from './en';
import zhCN from './zh-CN';
import type { Language } from '../api/types';

export const LANGUAGES: readonly { code: Language; label: string }[] = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '简体中文' },
];

export const resources = {
  en: { translation: en },
  'zh-CN': { translation: zhCN },
} as const;

export const i18n = i18next.createInstance();
void i18n.init({
  resources,
  lng: 'en',
  fallbackLng: 'en',
  supportedLngs: ['en', 'zh-CN'],
  load: 'currentOnly',
  initAsync: false,
  returnNull: false,
  interpolation: { escapeValue: false }, // Preact escapes text itself
});

export type TParams = Record<string, string | number>;
export type TFn = (key: string, params?: TParams) => string;

export const t: TFn = (key, params) => i18n.t(key, params ?? {}) as string;

export function isLanguage(x: unknown): x is Language {
  return x === 'en' || x === 'zh-CN';
}

/** Switches i18next and <html lang>; the caller updates LangContext. */
export function applyLanguage(lang: Language): void {
  if (i18n.language !== lang) void i18n.changeLanguage(lang);
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

export const LangContext = createContext<Language>('en');

/** The translate function; the calling component re-renders when the language changes. */
export function useT(): TFn {
  useContext(LangContext);
  return t;
}

export function useLanguage(): Language {
  return useContext(LangContext);
}

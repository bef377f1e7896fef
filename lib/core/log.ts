/**
 * Log levels and the logger signature shared by every layer. Messages follow
 * HashiCorp's text ("memberlist: Suspect x has failed, no acks received").
 *
 * @module
 */

/** Serf's log levels, lowest first. */
export const LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERR"] as const;

/** One of Serf's log levels. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Receives one log line without timestamp or level prefix. */
export type Logger = (level: LogLevel, message: string) => void;

/** A logger that drops everything. */
export const silentLogger: Logger = () => {};

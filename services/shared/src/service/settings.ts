// The settings every process shares, spread into its configuration: where the infrastructure is, the log
// level and how its HTTP server binds and stops (baseSettings: the relay); and for the services besides,
// tracing, the body limit, their consumers' tuning and the inbox's retention (serviceSettings).
import type { ConfigOf } from '../platform/config';
import { loggingSettings } from '../platform/logging';
import { infraSettings } from '../infra/addresses';
import { tracingSettings } from '../observability/tracing';
import { consumerSettings } from '../messaging/consumer/settings';
import { retentionSettings } from '../messaging/inbox/retention';
import { httpSettings } from '../http/settings';

export const baseSettings = {
  ...infraSettings,
  ...loggingSettings,
  HTTP_HOST: httpSettings.HTTP_HOST,
  HTTP_DRAIN_DELAY_MS: httpSettings.HTTP_DRAIN_DELAY_MS,
  HTTP_SHUTDOWN_GRACE_MS: httpSettings.HTTP_SHUTDOWN_GRACE_MS,
};

export const serviceSettings = {
  ...baseSettings,
  ...retentionSettings,
  ...consumerSettings,
  ...tracingSettings,
  HTTP_BODY_LIMIT: httpSettings.HTTP_BODY_LIMIT,
};

export type ServiceConfig = ConfigOf<typeof serviceSettings>;

// The relay and npm run status watch the lag of the shop's consumer groups: by default exactly the groups
// the services' own settings name.
import { SERVICE_SETTINGS } from '../../scripts/service-settings';
import { lagGroupsOf, loadRelayConfig, relaySettings } from '../../services/relay/src/config';

describe('RELAY_LAG_GROUPS', () => {
  it("defaults to every service's consumer group", () => {
    const groups = Object.values(SERVICE_SETTINGS).flatMap((settings) =>
      Object.entries(settings)
        .filter(([key]) => key.endsWith('_GROUP') && key !== 'RELAY_CONFIRM_GROUP')
        .map(([, s]) => s.default),
    );
    expect(groups).toHaveLength(5);
    expect(relaySettings.RELAY_LAG_GROUPS.default.split(',').sort()).toEqual(groups.sort());
  });

  it("adds the confirmer's group in debezium mode only", () => {
    expect(lagGroupsOf(loadRelayConfig({ RELAY_MODE: 'debezium', RELAY_LAG_GROUPS: 'a' }))).toEqual(['a', 'qtshop-relay-confirm']);
    expect(lagGroupsOf(loadRelayConfig({ RELAY_MODE: 'polling', RELAY_LAG_GROUPS: 'a' }))).toEqual(['a']);
  });
});

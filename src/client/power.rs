//! Whether the laptop runs on a low battery, and how much longer `sync --watch` then waits
//! between syncs (like Android WorkManager's battery-not-low constraint): each sync wakes the
//! radio and the disk, and a field laptop may have to last the day.
//!
//! Linux reports power supplies under `/sys/class/power_supply/<name>/`: `type` (`Mains`,
//! `USB`, `Battery`, …), `online` (1 when a charger is plugged in) and, for batteries,
//! `capacity` (percent) and `status` (`Charging`, `Discharging`, `Full`, …). Elsewhere (or
//! without a battery) the power is [`Power::Unknown`] and nothing changes.
//!
//! Reading is [`read`] (give it the directory, so that tests use a fake one); the rest is
//! pure. This module must not sleep or sync.

use std::path::Path;
use std::time::Duration;

/// Where Linux lists power supplies.
pub const SYSFS_POWER_SUPPLY: &str = "/sys/class/power_supply";
/// Below this charge (percent), on battery, syncs are spaced out.
pub const LOW_BATTERY_PERCENT: u8 = 20;
/// How much longer the wait between syncs is on a low battery.
pub const LOW_BATTERY_FACTOR: u32 = 4;

/// What the laptop runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// A charger is plugged in (or no battery is discharging).
    Mains,
    /// Running on battery, with the lowest charge of its batteries.
    Battery { percent: u8 },
    /// No power supply information (not Linux, no battery, unreadable).
    Unknown,
}

impl Power {
    /// On battery below [`LOW_BATTERY_PERCENT`].
    pub fn is_low_battery(self) -> bool {
        matches!(self, Power::Battery { percent } if percent < LOW_BATTERY_PERCENT)
    }
}

/// The wait before the next sync given `power`: [`LOW_BATTERY_FACTOR`] times longer on a
/// low battery, unchanged otherwise.
pub fn stretch(wait: Duration, power: Power) -> Duration {
    if power.is_low_battery() {
        wait.saturating_mul(LOW_BATTERY_FACTOR)
    } else {
        wait
    }
}

/// Reads the power supplies under `dir` (normally [`SYSFS_POWER_SUPPLY`]).
pub fn read(dir: &Path) -> Power {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Power::Unknown;
    };
    let mut charger_online = false;
    let mut discharging: Option<u8> = None;
    let mut battery_seen = false;
    for entry in entries.flatten() {
        let supply = entry.path();
        let field = |name: &str| {
            std::fs::read_to_string(supply.join(name))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        match field("type").as_str() {
            "Battery" => {
                // (A device's own battery, such as a wireless mouse's, has scope "Device".)
                if field("scope") == "Device" {
                    continue;
                }
                battery_seen = true;
                if field("status") == "Discharging" {
                    if let Ok(percent) = field("capacity").parse::<u8>() {
                        discharging = Some(discharging.map_or(percent, |p| p.min(percent)));
                    }
                }
            }
            "Mains" | "USB" | "USB_C" | "USB_PD" => charger_online |= field("online") == "1",
            _ => {}
        }
    }
    match (battery_seen, charger_online, discharging) {
        (false, _, _) => Power::Unknown,
        (true, false, Some(percent)) => Power::Battery { percent },
        (true, _, _) => Power::Mains,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake `/sys/class/power_supply` with `supplies` of (name, [(file, content)]).
    fn sysfs(supplies: &[(&str, &[(&str, &str)])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, files) in supplies {
            let d = dir.path().join(name);
            std::fs::create_dir(&d).unwrap();
            for (file, content) in *files {
                std::fs::write(d.join(file), format!("{content}\n")).unwrap();
            }
        }
        dir
    }

    const AC_OFF: (&str, &[(&str, &str)]) = ("AC", &[("type", "Mains"), ("online", "0")]);
    const AC_ON: (&str, &[(&str, &str)]) = ("AC", &[("type", "Mains"), ("online", "1")]);

    fn battery(percent: &'static str, status: &'static str) -> [(&'static str, &'static str); 3] {
        [
            ("type", "Battery"),
            ("capacity", percent),
            ("status", status),
        ]
    }

    #[test]
    fn a_discharging_battery_below_20_percent_is_low() {
        let bat = battery("15", "Discharging");
        let d = sysfs(&[AC_OFF, ("BAT0", &bat)]);
        assert_eq!(read(d.path()), Power::Battery { percent: 15 });
        assert!(read(d.path()).is_low_battery());
        let min = Duration::from_secs(60);
        assert_eq!(stretch(15 * min, read(d.path())), 60 * min);
    }

    #[test]
    fn charging_full_or_plugged_in_is_mains() {
        for (ac, status) in [
            (AC_ON, "Discharging"),
            (AC_OFF, "Charging"),
            (AC_OFF, "Full"),
        ] {
            let bat = battery("10", status);
            let d = sysfs(&[ac, ("BAT0", &bat)]);
            assert_eq!(read(d.path()), Power::Mains, "{status}");
            assert_eq!(
                stretch(Duration::from_secs(900), read(d.path())),
                Duration::from_secs(900)
            );
        }
    }

    #[test]
    fn twenty_percent_and_more_is_not_low_and_the_lowest_battery_counts() {
        let b0 = battery("20", "Discharging");
        let d = sysfs(&[AC_OFF, ("BAT0", &b0)]);
        assert!(!read(d.path()).is_low_battery());
        let b1 = battery("90", "Discharging");
        let b2 = battery("12", "Discharging");
        let d = sysfs(&[AC_OFF, ("BAT0", &b1), ("BAT1", &b2)]);
        assert_eq!(read(d.path()), Power::Battery { percent: 12 });
    }

    #[test]
    fn no_battery_or_no_sysfs_changes_nothing() {
        let d = sysfs(&[AC_OFF]);
        assert_eq!(read(d.path()), Power::Unknown);
        assert_eq!(read(Path::new("/nonexistent/power_supply")), Power::Unknown);
        let mouse = [
            ("type", "Battery"),
            ("scope", "Device"),
            ("capacity", "5"),
            ("status", "Discharging"),
        ];
        let d = sysfs(&[AC_OFF, ("hidpp_battery_0", &mouse)]);
        assert_eq!(read(d.path()), Power::Unknown);
        assert_eq!(
            stretch(Duration::from_secs(60), Power::Unknown),
            Duration::from_secs(60)
        );
    }
}

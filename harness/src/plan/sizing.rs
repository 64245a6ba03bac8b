//! [`size`]: the arithmetic of a plan, pure: a [`Demand`] in, a [`Sizing`] or a [`Refusal`] out.
//!
//! The rule: after losing the survivable failure, the remaining sites carry the whole
//! peak × growth with every node at or below the ceiling.
//!
//! ```text
//! remaining sites  none → S, node → S, site → S − 1, city → S − (sites in the largest city)
//! base             ⌈ peak × growth / (remaining sites × per node × ceiling) ⌉
//! nodes per site   base, + 1 to survive a node, + 1 with --n-plus-one
//! nodes in all     nodes per site × S
//! ```
//!
//! Every site gets the same count, because any site must be able to be among the survivors.
//! Surviving a node adds one per site: the site that lost a node still carries its share
//! (peak × growth ÷ S) on its other nodes, which are `base` or more. `--n-plus-one` adds one more
//! per site for a node out for maintenance while the failure happens. Traffic is assumed to
//! spread evenly over the sites that are up.

use std::fmt;

use clap::ValueEnum;
use serde::Serialize;

use crate::constants::PLAN_NODES_TOTAL_MAX;

/// How far above a whole number the nodes a plan needs may come out and still count as that
/// whole number: the inputs carry at most 17 significant digits and the quotient takes four
/// roundings (a few parts in 10^16), so 10^-9 of the count is far above the arithmetic's error
/// and far below any real shortfall (a billionth of a node). Without it, 126,000/s over
/// 3 × 30,000 × 0.7 (exactly 2) computes as 2.0000000000000004 and would plan a third node.
const WHOLE_NODES_TOLERANCE: f64 = 1e-9;

/// The failure a plan must survive with every node still at or below the ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Survive {
    /// No failure: the nodes carry the peak only while all of them are up.
    None,
    /// One node, in any site.
    Node,
    /// One whole site (data centre).
    Site,
    /// One whole city: the one with the most sites.
    City,
}

impl Survive {
    /// What is lost, as a phrase: "a node", "a site", "a city".
    pub fn loss(self) -> &'static str {
        match self {
            Survive::None => "nothing",
            Survive::Node => "a node",
            Survive::Site => "a site",
            Survive::City => "a city",
        }
    }
}

/// What a plan is asked to carry, on what, through what.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Demand {
    /// Payments per second at the peak.
    pub peak_per_s: f64,
    /// Growth until the next sizing, a multiplier of the peak.
    pub growth: f64,
    /// One node's sustainable throughput, payments per second.
    pub per_node_per_s: f64,
    /// The share of `per_node_per_s` a node may carry, in (0, 1].
    pub ceiling: f64,
    /// Sites (data centres).
    pub sites: u32,
    /// Cities the sites are spread over.
    pub cities: u32,
    /// The failure to survive.
    pub survive: Survive,
    /// One more node per site, for maintenance.
    pub n_plus_one: bool,
}

impl Demand {
    /// Payments per second the plan carries: peak × growth.
    pub fn load_per_s(&self) -> f64 {
        self.peak_per_s * self.growth
    }
}

/// Why a demand cannot be planned. Each reads as a sentence.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// `--sites 0`.
    SitesMustNotBeZero,
    /// `--cities 0`.
    CitiesMustNotBeZero,
    /// More cities than sites: some city would hold none.
    CitiesMustNotOutnumberSites {
        /// `--sites`.
        sites: u32,
        /// `--cities`.
        cities: u32,
    },
    /// `--survive site` with one site: nothing would remain.
    SurvivingASiteNeedsTwoSites,
    /// `--survive city` with one city: nothing would remain.
    SurvivingACityNeedsTwoCities,
    /// A rate or the growth that is not a finite number above 0.
    MustBeAboveZero {
        /// The flag's name.
        flag: &'static str,
        /// What it was.
        value: f64,
    },
    /// A ceiling outside (0, 1].
    CeilingOutOfRange {
        /// What it was.
        value: f64,
    },
    /// More nodes than [`PLAN_NODES_TOTAL_MAX`]: a slip of units, most likely.
    NodesTotalBeyondMax {
        /// The nodes the plan would need, all sites together.
        nodes_total: f64,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::SitesMustNotBeZero => write!(f, "--sites must be at least 1"),
            Refusal::CitiesMustNotBeZero => write!(f, "--cities must be at least 1"),
            Refusal::CitiesMustNotOutnumberSites { sites, cities } => write!(
                f,
                "{cities} cities cannot hold {sites} sites: every city needs at least one site \
                 (--cities must be at most --sites)"
            ),
            Refusal::SurvivingASiteNeedsTwoSites => write!(
                f,
                "surviving a site needs at least 2 sites: with --sites 1 no site would remain"
            ),
            Refusal::SurvivingACityNeedsTwoCities => write!(
                f,
                "surviving a city needs at least 2 cities: with --cities 1 no site would remain"
            ),
            Refusal::MustBeAboveZero { flag, value } => {
                write!(f, "{flag} must be a finite number above 0, not {value}")
            }
            Refusal::CeilingOutOfRange { value } => {
                write!(f, "--ceiling must be above 0 and at most 1, not {value}")
            }
            Refusal::NodesTotalBeyondMax { nodes_total } => write!(
                f,
                "the plan would need {nodes_total:.0} nodes, more than {PLAN_NODES_TOTAL_MAX}: \
                 check that --peak and --per-node are both payments per second"
            ),
        }
    }
}

/// Which nodes are up in a [`Case`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Every node of every site.
    Normal,
    /// The survived failure has happened; for `node`, the site that lost the node.
    AfterFailure,
    /// The failure has happened and one node per site is out for maintenance (`--n-plus-one`).
    InMaintenance,
}

/// Which load a [`Case`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Load {
    /// Peak × growth: what the plan is sized for.
    Planned,
    /// The peak alone, before growth.
    Peak,
}

/// One row of the plan's table: some nodes carrying some load.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Case {
    /// Which nodes are up.
    pub state: State,
    /// Which load.
    pub load: Load,
    /// Payments per second these nodes carry together.
    pub load_per_s: f64,
    /// The nodes carrying it.
    pub nodes: u64,
    /// Each node's share of its sustainable throughput: `load_per_s` ÷ (`nodes` × per node).
    pub utilization: f64,
    /// The M/M/1 waiting factor 1/(1 − ρ): time in the node as a multiple of service time;
    /// `None` at ρ ≥ 1, where the queue grows without bound.
    pub wait_factor: Option<f64>,
}

impl Case {
    fn new(state: State, load: Load, load_per_s: f64, nodes: u64, per_node_per_s: f64) -> Case {
        let utilization = load_per_s / (nodes as f64 * per_node_per_s);
        Case {
            state,
            load,
            load_per_s,
            nodes,
            utilization,
            wait_factor: wait_factor(utilization),
        }
    }
}

/// The M/M/1 waiting factor at utilization `rho`: mean time in the system ÷ service time,
/// 1/(1 − ρ); `None` at ρ ≥ 1.
pub fn wait_factor(rho: f64) -> Option<f64> {
    (rho < 1.0).then(|| 1.0 / (1.0 - rho))
}

/// A plan's numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Sizing {
    /// Sites in each city: ⌊S/C⌋ or ⌈S/C⌉, the larger counts first.
    pub sites_per_city: Vec<u32>,
    /// Sites left after the survived failure.
    pub remaining_sites: u32,
    /// peak × growth ÷ (remaining sites × per node × ceiling), before rounding up.
    pub nodes_quotient: f64,
    /// The quotient rounded up (at least 1): nodes per site before the failure's and
    /// maintenance's extra nodes.
    pub nodes_base: u64,
    /// Nodes in every site.
    pub nodes_per_site: u64,
    /// Nodes in all: `nodes_per_site` × sites.
    pub nodes_total: u64,
    /// The cases in the table: normal, after the failure (unless `none`), in maintenance (with
    /// `--n-plus-one`), at peak × growth, then the same at the peak alone when growth ≠ 1.
    pub cases: Vec<Case>,
}

impl Sizing {
    /// The case of `state` at `load`, if the plan has one.
    pub fn case(&self, state: State, load: Load) -> Option<&Case> {
        self.cases
            .iter()
            .find(|case| case.state == state && case.load == load)
    }
}

/// `sites` spread over `cities` evenly: the first `sites mod cities` cities get one more.
pub fn spread(sites: u32, cities: u32) -> Vec<u32> {
    if cities == 0 {
        return Vec::new();
    }
    let (each, extra) = (sites / cities, sites % cities);
    (0..cities)
        .map(|city| each + u32::from(city < extra))
        .collect()
}

/// The plan for `demand`, or why there is none.
pub fn size(demand: &Demand) -> Result<Sizing, Refusal> {
    check(demand)?;
    let sites_per_city = spread(demand.sites, demand.cities);
    let remaining_sites = remaining_sites(demand, &sites_per_city)?;
    let load_per_s = demand.load_per_s();
    let nodes_quotient =
        load_per_s / (f64::from(remaining_sites) * demand.per_node_per_s * demand.ceiling);
    let nodes_base = whole_nodes_at_least(nodes_quotient).max(1.0);
    let extra = f64::from(u8::from(demand.survive == Survive::Node))
        + f64::from(u8::from(demand.n_plus_one));
    let nodes_per_site = nodes_base + extra;
    let nodes_total = nodes_per_site * f64::from(demand.sites);
    if nodes_total.is_nan() || nodes_total > PLAN_NODES_TOTAL_MAX as f64 {
        return Err(Refusal::NodesTotalBeyondMax { nodes_total });
    }
    // Exact: each is a whole number at most PLAN_NODES_TOTAL_MAX, far below 2^53.
    let (nodes_base, nodes_per_site, nodes_total) =
        (nodes_base as u64, nodes_per_site as u64, nodes_total as u64);
    let mut cases = cases_at(demand, remaining_sites, nodes_per_site, Load::Planned);
    debug_assert!(cases
        .iter()
        .all(|case| case.utilization <= demand.ceiling * (1.0 + WHOLE_NODES_TOLERANCE)));
    if demand.growth != 1.0 {
        cases.extend(cases_at(
            demand,
            remaining_sites,
            nodes_per_site,
            Load::Peak,
        ));
    }
    Ok(Sizing {
        sites_per_city,
        remaining_sites,
        nodes_quotient,
        nodes_base,
        nodes_per_site,
        nodes_total,
        cases,
    })
}

fn check(demand: &Demand) -> Result<(), Refusal> {
    for (flag, value) in [
        ("--peak", demand.peak_per_s),
        ("--growth", demand.growth),
        ("--per-node", demand.per_node_per_s),
        ("peak × growth", demand.load_per_s()),
    ] {
        if !(value > 0.0 && value.is_finite()) {
            return Err(Refusal::MustBeAboveZero { flag, value });
        }
    }
    if !(demand.ceiling > 0.0 && demand.ceiling <= 1.0) {
        return Err(Refusal::CeilingOutOfRange {
            value: demand.ceiling,
        });
    }
    if demand.sites == 0 {
        return Err(Refusal::SitesMustNotBeZero);
    }
    if demand.cities == 0 {
        return Err(Refusal::CitiesMustNotBeZero);
    }
    if demand.cities > demand.sites {
        return Err(Refusal::CitiesMustNotOutnumberSites {
            sites: demand.sites,
            cities: demand.cities,
        });
    }
    Ok(())
}

fn remaining_sites(demand: &Demand, sites_per_city: &[u32]) -> Result<u32, Refusal> {
    match demand.survive {
        Survive::None | Survive::Node => Ok(demand.sites),
        Survive::Site if demand.sites < 2 => Err(Refusal::SurvivingASiteNeedsTwoSites),
        Survive::Site => Ok(demand.sites - 1),
        Survive::City if demand.cities < 2 => Err(Refusal::SurvivingACityNeedsTwoCities),
        Survive::City => {
            let largest = sites_per_city.iter().copied().max().unwrap_or(0);
            Ok(demand.sites - largest)
        }
    }
}

/// The least whole number of nodes not below `quotient`, where a quotient within
/// [`WHOLE_NODES_TOLERANCE`] of a whole number is that number.
fn whole_nodes_at_least(quotient: f64) -> f64 {
    let nearest = quotient.round();
    if (quotient - nearest).abs() <= WHOLE_NODES_TOLERANCE * nearest.max(1.0) {
        nearest
    } else {
        quotient.ceil()
    }
}

/// The table's rows at `load`: every node up; after the failure, where the worst node is; and,
/// with `--n-plus-one`, after the failure with one node per site in maintenance.
fn cases_at(demand: &Demand, remaining_sites: u32, nodes_per_site: u64, load: Load) -> Vec<Case> {
    let load_per_s = match load {
        Load::Planned => demand.load_per_s(),
        Load::Peak => demand.peak_per_s,
    };
    let per_node = demand.per_node_per_s;
    let sites = u64::from(demand.sites);
    let remaining = u64::from(remaining_sites);
    let site_share_per_s = load_per_s / f64::from(demand.sites);
    let mut cases = vec![Case::new(
        State::Normal,
        load,
        load_per_s,
        nodes_per_site * sites,
        per_node,
    )];
    // Nodes up per site: one fewer in the site that lost a node, one fewer everywhere in
    // maintenance. The counts stay at 1 or more: `node` adds the node it loses and
    // `--n-plus-one` the node it takes out, on top of a base of at least 1.
    let after_failure = |out_per_site: u64| match demand.survive {
        Survive::None => Case::new(
            State::InMaintenance,
            load,
            load_per_s,
            (nodes_per_site - out_per_site) * sites,
            per_node,
        ),
        Survive::Node => Case::new(
            if out_per_site == 0 {
                State::AfterFailure
            } else {
                State::InMaintenance
            },
            load,
            site_share_per_s,
            nodes_per_site - 1 - out_per_site,
            per_node,
        ),
        Survive::Site | Survive::City => Case::new(
            if out_per_site == 0 {
                State::AfterFailure
            } else {
                State::InMaintenance
            },
            load,
            load_per_s,
            (nodes_per_site - out_per_site) * remaining,
            per_node,
        ),
    };
    if demand.survive != Survive::None {
        cases.push(after_failure(0));
    }
    if demand.n_plus_one {
        cases.push(after_failure(1));
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NetsUnion's shape: 180,000/s, six sites in three cities, a hypothetical 50,000/s node.
    fn netsunion(survive: Survive) -> Demand {
        Demand {
            peak_per_s: 180_000.0,
            growth: 1.0,
            per_node_per_s: 50_000.0,
            ceiling: 0.7,
            sites: 6,
            cities: 3,
            survive,
            n_plus_one: false,
        }
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < 1e-9
    }

    fn utilization(sizing: &Sizing, state: State, load: Load) -> f64 {
        sizing
            .case(state, load)
            .expect("the case is planned")
            .utilization
    }

    #[test]
    fn example_one_survive_a_city() {
        let sizing = size(&netsunion(Survive::City)).unwrap();
        assert_eq!(sizing.sites_per_city, vec![2, 2, 2]);
        assert_eq!(sizing.remaining_sites, 4);
        assert!(close(sizing.nodes_quotient, 180_000.0 / 140_000.0));
        assert_eq!(sizing.nodes_base, 2);
        assert_eq!(sizing.nodes_per_site, 2);
        assert_eq!(sizing.nodes_total, 12);
        // 180,000 over 12 × 50,000; after the city, over 4 sites × 2 nodes.
        assert!(close(
            utilization(&sizing, State::Normal, Load::Planned),
            0.3
        ));
        assert!(close(
            utilization(&sizing, State::AfterFailure, Load::Planned),
            0.45
        ));
        assert_eq!(sizing.cases.len(), 2);
    }

    #[test]
    fn example_two_doubled_with_n_plus_one() {
        let demand = Demand {
            growth: 2.0,
            n_plus_one: true,
            ..netsunion(Survive::City)
        };
        let sizing = size(&demand).unwrap();
        // ⌈360,000 / (4 × 50,000 × 0.7)⌉ = ⌈2.571⌉ = 3, + 1 for maintenance.
        assert_eq!(sizing.nodes_base, 3);
        assert_eq!(sizing.nodes_per_site, 4);
        assert_eq!(sizing.nodes_total, 24);
        assert!(close(
            utilization(&sizing, State::Normal, Load::Planned),
            0.3
        ));
        assert!(close(
            utilization(&sizing, State::AfterFailure, Load::Planned),
            0.45
        ));
        assert!(close(
            utilization(&sizing, State::InMaintenance, Load::Planned),
            0.6
        ));
        // At today's peak alone, half of each.
        assert!(close(utilization(&sizing, State::Normal, Load::Peak), 0.15));
        assert!(close(
            utilization(&sizing, State::AfterFailure, Load::Peak),
            0.225
        ));
        assert!(close(
            utilization(&sizing, State::InMaintenance, Load::Peak),
            0.3
        ));
    }

    #[test]
    fn example_three_survive_a_site() {
        let sizing = size(&netsunion(Survive::Site)).unwrap();
        // ⌈180,000 / (5 × 50,000 × 0.7)⌉ = ⌈1.029⌉ = 2.
        assert_eq!(sizing.remaining_sites, 5);
        assert_eq!(sizing.nodes_per_site, 2);
        assert_eq!(sizing.nodes_total, 12);
        assert!(close(
            utilization(&sizing, State::AfterFailure, Load::Planned),
            0.36
        ));
    }

    #[test]
    fn each_survive_mode() {
        // (survive, remaining sites, nodes per site, utilization after the failure)
        let rows = [
            (Survive::None, 6, 1, None),
            // ⌈180,000 / (6 × 50,000 × 0.7)⌉ = 1, + 1: the site that lost one carries 30,000 on 1.
            (Survive::Node, 6, 2, Some(0.6)),
            (Survive::Site, 5, 2, Some(0.36)),
            (Survive::City, 4, 2, Some(0.45)),
        ];
        for (survive, remaining, per_site, after) in rows {
            let sizing = size(&netsunion(survive)).unwrap();
            assert_eq!(sizing.remaining_sites, remaining, "{survive:?}");
            assert_eq!(sizing.nodes_per_site, per_site, "{survive:?}");
            assert_eq!(sizing.nodes_total, per_site * 6, "{survive:?}");
            let measured = sizing
                .case(State::AfterFailure, Load::Planned)
                .map(|case| case.utilization);
            match (measured, after) {
                (None, None) => {}
                (Some(measured), Some(after)) => assert!(close(measured, after), "{survive:?}"),
                other => panic!("{survive:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn surviving_a_node_keeps_the_site_that_lost_one_under_the_ceiling() {
        // 200,000 over 2 sites at 0.7 × 50,000: base ⌈2.857⌉ = 3, so 4 per site; the site that
        // lost one carries 100,000 on 3.
        let demand = Demand {
            peak_per_s: 200_000.0,
            sites: 2,
            cities: 1,
            ..netsunion(Survive::Node)
        };
        let sizing = size(&demand).unwrap();
        assert_eq!(sizing.nodes_per_site, 4);
        let after = sizing.case(State::AfterFailure, Load::Planned).unwrap();
        assert_eq!(after.nodes, 3);
        assert!(close(after.load_per_s, 100_000.0));
        assert!(close(after.utilization, 100_000.0 / 150_000.0));
    }

    #[test]
    fn cities_share_the_sites_evenly() {
        assert_eq!(spread(7, 3), vec![3, 2, 2]);
        assert_eq!(spread(6, 3), vec![2, 2, 2]);
        assert_eq!(spread(5, 1), vec![5]);
        assert_eq!(spread(4, 4), vec![1, 1, 1, 1]);
        // Losing the largest city of 7 over 3 leaves 4.
        let demand = Demand {
            sites: 7,
            ..netsunion(Survive::City)
        };
        assert_eq!(size(&demand).unwrap().remaining_sites, 4);
    }

    #[test]
    fn an_exact_multiple_does_not_round_up() {
        // 126,000 / (3 × 30,000 × 0.7) is exactly 2, computed as 2.0000000000000004.
        let demand = Demand {
            peak_per_s: 126_000.0,
            per_node_per_s: 30_000.0,
            sites: 3,
            cities: 1,
            ..netsunion(Survive::None)
        };
        assert!(
            demand.load_per_s() / (3.0 * demand.per_node_per_s * demand.ceiling) > 2.0,
            "the case still shows the error"
        );
        let sizing = size(&demand).unwrap();
        assert_eq!(sizing.nodes_per_site, 2);
        assert!(close(
            utilization(&sizing, State::Normal, Load::Planned),
            0.7
        ));
        // 180,000 × 1.1 over 1 × 20,000 × 0.9 is exactly 11, computed as 11.000000000000002.
        let demand = Demand {
            peak_per_s: 180_000.0,
            growth: 1.1,
            per_node_per_s: 20_000.0,
            ceiling: 0.9,
            sites: 1,
            cities: 1,
            survive: Survive::None,
            n_plus_one: false,
        };
        assert_eq!(size(&demand).unwrap().nodes_per_site, 11);
        // Just past a whole number still rounds up.
        let demand = Demand {
            peak_per_s: 180_001.0,
            ..demand
        };
        assert!(size(&demand).unwrap().nodes_per_site > 11);
    }

    #[test]
    fn a_tiny_peak_still_needs_a_node() {
        let demand = Demand {
            peak_per_s: 1e-6,
            ..netsunion(Survive::None)
        };
        assert_eq!(size(&demand).unwrap().nodes_per_site, 1);
    }

    #[test]
    fn n_plus_one_adds_a_node_per_site_in_every_mode() {
        for survive in [Survive::None, Survive::Node, Survive::Site, Survive::City] {
            let without = size(&netsunion(survive)).unwrap();
            let with = size(&Demand {
                n_plus_one: true,
                ..netsunion(survive)
            })
            .unwrap();
            assert_eq!(
                with.nodes_per_site,
                without.nodes_per_site + 1,
                "{survive:?}"
            );
            assert_eq!(with.nodes_total, without.nodes_total + 6, "{survive:?}");
            let maintenance = with.case(State::InMaintenance, Load::Planned).unwrap();
            assert!(maintenance.utilization <= 0.7 + 1e-12, "{survive:?}");
        }
    }

    #[test]
    fn refusals() {
        let base = netsunion(Survive::Node);
        let rows: Vec<(Demand, Refusal)> = vec![
            (Demand { sites: 0, ..base }, Refusal::SitesMustNotBeZero),
            (Demand { cities: 0, ..base }, Refusal::CitiesMustNotBeZero),
            (
                Demand {
                    sites: 2,
                    cities: 3,
                    ..base
                },
                Refusal::CitiesMustNotOutnumberSites {
                    sites: 2,
                    cities: 3,
                },
            ),
            (
                Demand {
                    sites: 1,
                    cities: 1,
                    survive: Survive::Site,
                    ..base
                },
                Refusal::SurvivingASiteNeedsTwoSites,
            ),
            (
                Demand {
                    cities: 1,
                    survive: Survive::City,
                    ..base
                },
                Refusal::SurvivingACityNeedsTwoCities,
            ),
            (
                Demand {
                    peak_per_s: 0.0,
                    ..base
                },
                Refusal::MustBeAboveZero {
                    flag: "--peak",
                    value: 0.0,
                },
            ),
            (
                Demand {
                    per_node_per_s: -1.0,
                    ..base
                },
                Refusal::MustBeAboveZero {
                    flag: "--per-node",
                    value: -1.0,
                },
            ),
            (
                Demand {
                    peak_per_s: 1e300,
                    growth: 1e300,
                    ..base
                },
                Refusal::MustBeAboveZero {
                    flag: "peak × growth",
                    value: f64::INFINITY,
                },
            ),
            (
                Demand {
                    ceiling: 1.5,
                    ..base
                },
                Refusal::CeilingOutOfRange { value: 1.5 },
            ),
            (
                Demand {
                    ceiling: 0.0,
                    ..base
                },
                Refusal::CeilingOutOfRange { value: 0.0 },
            ),
        ];
        for (demand, expected) in rows {
            assert_eq!(size(&demand), Err(expected), "{demand:?}");
        }
        // A per-node figure in the wrong unit: refused, not printed.
        let refused = size(&Demand {
            per_node_per_s: 0.001,
            ..base
        });
        assert!(
            matches!(refused, Err(Refusal::NodesTotalBeyondMax { .. })),
            "{refused:?}"
        );
        // The refusal of a city names the cities.
        assert!(Refusal::SurvivingACityNeedsTwoCities
            .to_string()
            .contains("at least 2 cities"));
    }

    #[test]
    fn a_ceiling_of_one_has_no_wait_factor_at_full_load() {
        assert_eq!(wait_factor(1.0), None);
        assert!(close(wait_factor(0.7).unwrap(), 1.0 / 0.3));
        assert!(close(wait_factor(0.9).unwrap(), 10.0));
    }
}

//! After construction, making payments, deciding bank replies, scheduling them and drawing send
//! times under a traffic shape allocates nothing: counted by a global allocator that counts this
//! thread's allocations while armed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use clearway_core::event::{Kind, KindSet, ParticipantId, PAYMENT_KIND_COUNT};
use clearway_core::network::{BinPrefix, LinkStrategy, Network, Participant, Role, Status};
use clearway_loadgen::{
    Arrival, Arrivals, BankConfig, BankLatency, Banks, FaultRates, Institutions, Point,
    ReplySchedule, Schedule, Shape, Trace, WorkloadConfig,
};

struct CountingAllocator;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.with(Cell::get) {
            ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from `System.alloc` with this layout.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        if ARMED.with(Cell::get) {
            ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        unsafe { System.realloc(pointer, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn participant(id: u16, role: Role) -> Participant {
    Participant {
        id: ParticipantId(id),
        name: format!("participant-{id}"),
        role,
        status: Status::Active,
        kinds: match role {
            Role::Bank => KindSet::NONE,
            Role::Institution => Kind::PAYMENTS.into_iter().collect(),
        },
        limits_fen: [1_000_000; PAYMENT_KIND_COUNT],
        cap_fen: u64::MAX,
        secret: format!("secret-{id}").into_bytes(),
        links: Vec::new(),
        link_strategy: LinkStrategy::PrimarySecondary,
    }
}

fn index_of_last_payment() -> u64 {
    199_999
}

#[test]
fn payments_replies_and_the_schedule_allocate_nothing_per_event() {
    let mut participants: Vec<Participant> = (1..=20)
        .map(|id| participant(id, Role::Institution))
        .collect();
    participants.extend((100..130).map(|id| participant(id, Role::Bank)));
    let bins = (0..30u16)
        .map(|index| BinPrefix {
            prefix: format!("{}", 622_000 + u32::from(index)),
            bank: ParticipantId(100 + index),
        })
        .collect();
    let network = Network {
        operator_secret: b"operator".to_vec(),
        participants,
        bins,
    };
    let config = WorkloadConfig {
        faults: FaultRates {
            duplicate_id: 0.02,
            bad_mac: 0.02,
            unknown_account: 0.02,
            over_limit: 0.02,
            unknown_refund: 0.02,
        },
        refund_delay_ns: 1_000_000,
        refund_window_capacity: 4_096,
        ..WorkloadConfig::default()
    };
    let bank_config = BankConfig {
        latency: BankLatency::LogNormal {
            median_us: 100,
            sigma: 1.0,
        },
        ..BankConfig::default()
    };
    let mut arrivals = Arrivals::from_config(&config, 1);
    let mut institutions = Institutions::new(&network, &config, 1);
    // With a horizon: resends and refunds reach back through samples sized here, once.
    let horizon_config = WorkloadConfig {
        horizon_s: 0.5,
        refund_window_capacity: 1_024,
        ..config.clone()
    };
    let mut reaching_back = Institutions::new(&network, &horizon_config, 2);
    let mut banks = Banks::new(&network, &bank_config, 30_000_000_000, 1);
    let mut schedule = ReplySchedule::with_capacity(100_000);
    let bank_ids: Vec<ParticipantId> = network.banks().map(|bank| bank.id).collect();

    ARMED.with(|armed| armed.set(true));
    let mut replies = 0u64;
    for index in 0..200_000usize {
        let now_ns = arrivals.next_ns();
        let payment = institutions.next_payment(now_ns);
        std::hint::black_box(reaching_back.next_payment(now_ns));
        let bank = bank_ids[index % bank_ids.len()];
        if let Some((due_ns, reply)) = banks.on_forwarded(
            payment.txn_id,
            bank,
            payment.amount_fen,
            payment.sent_ns,
            now_ns,
        ) {
            schedule
                .push(due_ns, reply)
                .expect("sized for the replies in flight");
        }
        while schedule.pop_due(now_ns).is_some() {
            replies += 1;
        }
    }
    let allocations = ALLOCATIONS.with(Cell::get);
    // The counter itself counts: one box while armed is one allocation.
    std::hint::black_box(Box::new(index_of_last_payment()));
    ARMED.with(|armed| armed.set(false));

    assert_eq!(allocations, 0);
    assert_eq!(ALLOCATIONS.with(Cell::get), 1);
    assert!(replies > 190_000, "{replies} replies");
    assert!(institutions.injected().total() > 15_000);
    assert!(reaching_back.injected().total() > 15_000);
}

#[test]
fn shaped_arrivals_allocate_nothing_per_time() {
    let ramp = Shape::Ramp {
        from: 0.0,
        to: 180_000.0,
        over_s: 1.0,
        arrival: Arrival::Poisson,
    };
    let profile = Shape::Profile {
        points: vec![
            Point {
                at_s: 0.0,
                rate: 50_000.0,
            },
            Point {
                at_s: 0.5,
                rate: 0.0,
            },
            Point {
                at_s: 1.0,
                rate: 180_000.0,
            },
        ],
        arrival: Arrival::Constant,
    };
    // 100,000 offsets, 10 µs apart: the partition runs out half way through the loop below.
    let text: String = (0..100_000)
        .map(|index| format!("{}\n", index * 10))
        .collect();
    let trace = Trace::parse(&format!("offset_us\n{text}")).expect("a valid trace");
    let file = "trace.csv".into();
    let schedules = [
        Schedule::new(&ramp, None).expect("a valid ramp"),
        Schedule::new(&profile, None).expect("a valid profile"),
        Schedule::new(&Shape::Trace { file }, Some(trace)).expect("a loaded trace"),
    ];
    let mut all_arrivals: Vec<Arrivals> = schedules
        .iter()
        .map(|schedule| Arrivals::scheduled(schedule, 1, 2, 7))
        .collect();

    ARMED.with(|armed| armed.set(true));
    let mut ended = 0u64;
    let mut sum_ns = 0u64;
    for arrivals in &mut all_arrivals {
        for _ in 0..100_000 {
            let time_ns = arrivals.next_ns();
            if time_ns == u64::MAX {
                ended += 1;
            } else {
                sum_ns = sum_ns.wrapping_add(time_ns);
            }
        }
    }
    let allocations = ALLOCATIONS.with(Cell::get);
    ARMED.with(|armed| armed.set(false));

    assert_eq!(allocations, 0);
    std::hint::black_box(sum_ns);
    assert_eq!(ended, 50_000);
}

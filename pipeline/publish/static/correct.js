// The correction page: line boxes over the deep-zoom image, each line's text editable, Save.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var inputs = Array.prototype.slice.call(document.querySelectorAll("#lines input.text"));
  var status = document.getElementById("status");
  var boxes = {};
  var viewer = null;

  if (window.OpenSeadragon) {
    viewer = window.OpenSeadragon({
      id: "image",
      prefixUrl: data.osd + "images/",
      tileSources: data.info,
      showNavigator: true,
      gestureSettingsMouse: { clickToZoom: false }
    });
    viewer.addHandler("open", function () {
      data.lines.forEach(function (line) {
        var box = document.createElement("div");
        var b = line.box;
        box.className = "box" + (line.low ? " low" : "");
        box.id = "box-" + line.id;
        box.title = line.text;
        viewer.addOverlay({
          element: box,
          location: viewer.viewport.imageToViewportRectangle(b[0], b[1], b[2] - b[0], b[3] - b[1])
        });
        boxes[line.id] = box;
      });
      document.body.setAttribute("data-boxes", String(data.lines.length));
    });
  }

  inputs.forEach(function (input) {
    input.dataset.saved = input.value;
    input.addEventListener("input", function () {
      input.classList.toggle("changed", input.value !== input.dataset.saved);
    });
    input.addEventListener("focus", function () {
      Object.keys(boxes).forEach(function (id) { boxes[id].classList.remove("current"); });
      var box = boxes[input.dataset.id];
      if (box) {
        box.classList.add("current");
        var line = data.lines.filter(function (l) { return l.id === input.dataset.id; })[0];
        var b = line.box;
        viewer.viewport.panTo(viewer.viewport.imageToViewportCoordinates(
          (b[0] + b[2]) / 2, (b[1] + b[3]) / 2));
      }
    });
  });

  document.getElementById("save").addEventListener("click", function () {
    var body = {
      editor: document.getElementById("editor").value,
      lines: inputs.map(function (input) {
        return { id: input.dataset.id, text: input.value };
      })
    };
    status.textContent = "saving...";
    fetch(data.save, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": data.csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) {
          status.textContent = "saved " + answer.saved + " (" + answer.lines +
            " lines); the next 'pipeline run' publishes it";
          inputs.forEach(function (input) {
            input.dataset.saved = input.value;
            input.classList.remove("changed");
          });
          document.getElementById("source").textContent = answer.file;
        } else {
          status.textContent = "not saved: " + answer.error;
        }
      });
    }).catch(function (error) {
      status.textContent = "not saved: " + error;
    });
  });
}());
